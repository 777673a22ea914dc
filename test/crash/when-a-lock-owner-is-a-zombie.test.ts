import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { processIsRunning } from '../../src/bus/outbox/lock-file.js'

/** The data directory's lock names its owner's pid; an owner that exited but is not reaped yet is gone. */
describe('the lock of a data directory', () => {
  it.runIf(process.platform === 'linux')('counts a killed process that is not yet reaped (a zombie) as gone', () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    const pid = child.pid!
    expect(processIsRunning(pid)).toBe(true)
    // Node reaps its children on the event loop; while this loop is busy, the exited child stays a zombie.
    const until = Date.now() + 2_000
    let zombie = false
    while (Date.now() < until && !zombie) {
      try {
        process.kill(pid, 0)
        zombie = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.startsWith('Z') ?? false
      } catch {
        break
      }
    }
    expect(zombie).toBe(true)
    expect(processIsRunning(pid)).toBe(false)
  })
})
