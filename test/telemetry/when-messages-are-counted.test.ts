import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { startConsole, type ConsoleUnderTest } from '../web/support/console-app.js'
import { startRecordedTelemetry } from './support/traced-shop.js'

const recorded = startRecordedTelemetry()
afterAll(() => recorded.telemetry.shutdown())
let shop: (ConsoleUnderTest & { url: string }) | undefined
afterEach(async () => {
  await shop?.close()
  shop = undefined
})

/** The latest data points of one instrument, by the module (destination) they are about. */
async function pointsOf(name: string): Promise<Map<string, DataPoint<unknown>[]>> {
  const exported = (await recorded.metrics()).getMetrics()
  const byModule = new Map<string, DataPoint<unknown>[]>()
  const latest = exported.at(-1)
  for (const scope of latest?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue
      for (const point of metric.dataPoints) {
        const key = String(point.attributes['messaging.destination.name'])
        byModule.set(key, [...(byModule.get(key) ?? []), point])
      }
    }
  }
  return byModule
}
const total = (points: DataPoint<unknown>[] | undefined) => (points ?? []).reduce((sum, point) => sum + (typeof point.value === 'number' ? point.value : (point.value as Histogram).count), 0)

const postJson = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe("the bus's OpenTelemetry metrics", () => {
  it('count messages sent and consumed, time their handling and critical time, and count retries, error-queue moves and queue length', async () => {
    shop = await startConsole({ listen: true, recoverability: { immediateRetries: 2, delayedRetries: { count: 0 } } })
    // 1. Two orders flow through; then Billing is broken, and a third order's OrderPlaced ends in its error queue.
    for (let i = 0; i < 2; i++) expect((await postJson(`${shop.url}/api/orders`, { items: ['book'] })).status).toBe(202)
    await shop.shop.bus.idle()
    await postJson(`${shop.url}/api/modules/billing/fault`, { on: true })
    expect((await postJson(`${shop.url}/api/orders`, { items: ['pen'] })).status).toBe(202)
    await shop.shop.bus.idle()
    // 2. Shipping stopped: the next order's OrderPlaced waits in its queue.
    await postJson(`${shop.url}/api/modules/shipping/stop`, {})
    expect((await postJson(`${shop.url}/api/orders`, { items: ['cup'] })).status).toBe(202)
    await shop.shop.bus.idle()

    const consumed = await pointsOf('messaging.client.consumed.messages')
    expect(total(consumed.get('sales'))).toBe(4)
    expect(total(consumed.get('billing'))).toBe(2)
    expect(total(consumed.get('shipping'))).toBe(5) // OrderPlaced ×3 (the fourth waits), OrderBilled ×2
    expect(total((await pointsOf('messaging.process.duration')).get('billing'))).toBe(4) // two handled, and the two that failed for good
    expect(total((await pointsOf('mailroom.critical_time')).get('shipping'))).toBe(5)

    const sent = await pointsOf('messaging.client.sent.messages')
    expect(total(sent.get('sales'))).toBe(4) // PlaceOrder, from the HTTP route
    expect(total(sent.get('OrderPlaced'))).toBe(4)
    expect(total(sent.get('OrderBilled'))).toBe(2)

    const retries = (await pointsOf('mailroom.retries')).get('billing') ?? []
    expect(retries.find((point) => point.attributes['mailroom.retry.kind'] === 'immediate')?.value).toBe(4) // two orders' third attempts each
    const moves = (await pointsOf('mailroom.error_queue.moves')).get('billing') ?? []
    expect(moves.map((point) => [point.attributes['error.type'], point.value])).toEqual([['InjectedFaultError', 2]])

    const queued = await pointsOf('mailroom.queue.length')
    expect(total(queued.get('shipping'))).toBe(1)
    expect(total(queued.get('sales'))).toBe(0)

    // 3. Prometheus's /metrics still answers from the same bus.
    const prometheus = await (await fetch(`${shop.url}/metrics`)).text()
    expect(prometheus).toMatch(/mailroom_handled_total\{module="sales"\} 4/)
  })
})
