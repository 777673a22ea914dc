import { describe, expect, it } from 'vitest'
import { runChaos } from '../../scripts/chaos/run-chaos.js'

/** The bounded variant of `npm run chaos`: the app as a child process, load, faults, kills, reconciliation. */
describe('when the whole shop runs under load, faults and kills', () => {
  it('ships every acknowledged order exactly once (or shows it in the error queue with its reason)', { timeout: 120_000 }, async () => {
    const lines: string[] = []
    const summary = await runChaos({ orders: 600, kills: 2, ratePerSecond: 300, faultRate: 0.3, drainTimeoutMs: 60_000, log: (line) => lines.push(line) })
    expect(summary, lines.join('\n')).toMatchObject({ ok: true, kills: 2, missing: [], doubled: [] })
    expect(summary.accepted).toBeGreaterThan(500)
    expect(summary.shipped + summary.failed.length).toBe(summary.accepted)
    // 30% of attempts failing: some messages needed delayed retries, so the retry path ran across the kills.
    expect(summary.delayedRetryRounds).toBeGreaterThan(0)
    expect(summary.moduleRestarts).toBeGreaterThan(0)
  })
})
