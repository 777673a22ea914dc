import { describe, expect, it } from 'vitest'
import { runOrderStream } from '../../scripts/chaos/order-stream.js'

/**
 * The bounded variant of `npm run chaos -- --stream`: the shop with its own settings (Billing at 40/s, the
 * gateway's limit, the audit; a 1 s buyer's-remorse window instead of 10 s to keep it short), clients
 * POSTing orders as fast as answers come, SIGKILLs mid-stream, everything read back over HTTP.
 */
describe('when orders stream in through SIGKILLs', () => {
  it('ships every accepted order once and charges it once, and shows the backlog each restart found', { timeout: 150_000 }, async () => {
    const lines: string[] = []
    const summary = await runOrderStream({ orders: 600, kills: 3, clients: 6, env: { MAILROOM_BUYERS_REMORSE_MS: '1000' }, settleTimeoutMs: 90_000, log: (line) => lines.push(line) })
    expect(summary, lines.join('\n')).toMatchObject({ ok: true, kills: 3, notShipped: [], shippedTwice: [], gateway: { chargedTwice: 0 } })
    expect(summary.accepted).toBeGreaterThanOrEqual(600)
    // Charged exactly the orders billed; each accepted order billed (some killed mid-answer may be billed without a 202).
    expect(summary.gateway.charged).toBe(summary.billed)
    expect(summary.billed).toBeGreaterThanOrEqual(summary.accepted)
    // Billing (40/s) falls behind the stream: by the last restart it had a queue, and GET /api/modules said how long.
    expect(summary.backlogsSeen).toHaveLength(3)
    expect(summary.backlogsSeen.at(-1)!.billing?.total, JSON.stringify(summary.backlogsSeen)).toBeGreaterThan(0)
  })
})
