import { execFile } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** The bounded variant of `npm run bench`: it runs, prints its table and writes its JSON. No time is asserted. */
describe('npm run bench', () => {
  it('runs the reference group and reports it as a table and as JSON', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'references'], { cwd: root })
    expect(stdout).toContain('| ref: array queue + async handler')
    expect(stdout).toContain('| ref: fsync group commit, 100 writers')
    const written = /written: (.+\.json)/.exec(stdout)?.[1]
    expect(written).toBeDefined()
    const report = JSON.parse(readFileSync(written!, 'utf8'))
    rmSync(written!)
    expect(report.results.map((result: { name: string }) => result.name)).toEqual([
      'ref: array queue + async handler',
      'ref: fsync group commit, 100 writers',
      "ref: same, O_DSYNC writes (the journal's way)",
      'ref: envelope alone (id, headers, validation)',
      'ref: ledger alone, consume with 1,000 queued',
      'ref: ledger alone, consume with 100,000 queued',
      'ref: JSON line encode, 2 records per msg',
      'ref: JSON line decode (CRC + parse)',
      'ref: replay floor (id, state, Map entry a record)',
      'ref: idle event loop, setTimeout(0) late by',
    ])
    for (const result of report.results.slice(0, 9)) expect(result.rounds[0]).toBeGreaterThan(0)
    // The disk's ceiling batches as the journal does: all 100 writers in each write, not two halves in turn.
    for (const result of report.results.slice(1, 3)) expect(result.extra['records per write']).toBeGreaterThanOrEqual(90)
  })

  it('refuses an unknown option value with a clear message', async () => {
    const failure = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only', 'nonsense'], { cwd: root }).catch((error: { code: number; stderr: string }) => error)
    expect(failure).toMatchObject({ code: 2 })
    expect((failure as { stderr: string }).stderr).toContain("Unknown --only 'nonsense'. Choose from: references, bus, data, http, peers, postgres.")
  })
})
