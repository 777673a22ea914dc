import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const dir = mkdtempSync(join(tmpdir(), 'dsync-'))
const data = Buffer.alloc(30_000, 'x')
for (let r = 0; r < 3; r++) {
  const a = await open(join(dir, 'a' + r), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND)
  let t = performance.now()
  for (let i = 0; i < 500; i++) { await a.write(data); await a.datasync() }
  const two = (performance.now() - t) / 500
  await a.close()
  const b = await open(join(dir, 'b' + r), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC)
  t = performance.now()
  for (let i = 0; i < 500; i++) { await b.write(data) }
  const one = (performance.now() - t) / 500
  await b.close()
  console.log(`write+fdatasync ${two.toFixed(3)} ms, O_DSYNC write ${one.toFixed(3)} ms`)
}
rmSync(dir, { recursive: true, force: true })
