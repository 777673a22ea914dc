import { closeSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import lockfile from 'proper-lockfile'

/**
 * Test files that start a whole shop of processes on PostgreSQL take turns, across vitest's workers: each
 * such shop opens some seventy connections, and two at once exceed the server's hundred (a 503 "too many
 * clients" that says nothing about the shop). A lock file in the temp directory, held while the test runs;
 * a worker that dies lets go of it (proper-lockfile's staleness check), so a crash never blocks the next run.
 */
export async function takeTurn(name: string, waitMs: number): Promise<() => Promise<void>> {
  const file = join(tmpdir(), `mailroom-tests-${name}.lock`)
  closeSync(openSync(file, 'a'))
  const tries = Math.ceil(waitMs / 500)
  return lockfile.lock(file, { stale: 10_000, retries: { retries: tries, factor: 1, minTimeout: 500, maxTimeout: 500 } })
}
