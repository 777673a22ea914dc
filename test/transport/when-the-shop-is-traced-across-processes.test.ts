import { afterEach, describe, expect, it } from 'vitest'
import { startOtlpReceiver, type ReceivedSpan } from '../telemetry/support/otlp-receiver.js'
import { clientTraceparent } from '../telemetry/support/traced-shop.js'
import { brokerAvailable } from './support/broker.js'
import { startFourProcesses, stopFourProcesses } from './support/four-processes.js'

const available = await brokerAvailable()
const closing: (() => Promise<void>)[] = []
afterEach(async () => {
  await stopFourProcesses()
  for (const close of closing.splice(0)) await close()
})

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

describe.skipIf(!available)('when the shop runs as four processes over RabbitMQ, traced', () => {
  it('makes one order one trace across the processes, each hop a child of the one before, the delayed retry linked to the failed attempt', async () => {
    const collector = await startOtlpReceiver()
    closing.push(() => collector.close())
    const { processes } = await startFourProcesses('traced', {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      MAILROOM_IMMEDIATE_RETRIES: '1',
      MAILROOM_RETRY_BASE_MS: '3000',
    })
    const web = processes.web!
    // 1. Billing (another process) fails every attempt until a person removes the fault.
    expect((await postJson(`${web.url}/api/modules/billing/fault`, { on: true })).status).toBe(200)
    const client = clientTraceparent()
    const placed = await postJson(`${web.url}/api/orders`, { items: ['book'] }, { traceparent: client.header })
    expect(placed.status).toBe(202)
    const { orderId } = (await placed.json()) as { orderId: string }
    const ofTrace = () => collector.spans.filter((span) => span.traceId === client.traceId)
    await expect.poll(() => ofTrace().filter((span) => span.name === 'process billing').length, { timeout: 20_000 }).toBe(1)
    expect((await postJson(`${web.url}/api/modules/billing/fault`, { on: false })).status).toBe(200)
    await expect.poll(async () => ((await (await fetch(`${web.url}/api/orders/${orderId}`)).json()) as { shipping?: { shipped?: boolean } }).shipping?.shipped, { timeout: 30_000 }).toBe(true)
    await expect.poll(() => ofTrace().some((span) => span.name === 'publish OrderShipped'), { timeout: 10_000 }).toBe(true)

    // 2. Each hop's span came from the process that made it, a child of the hop before.
    const spans = ofTrace()
    const byId = new Map(spans.map((span) => [span.spanId, span]))
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId)
    const one = (name: string, service: string) => {
      const found = spans.filter((span) => span.name === name && span.service === service)
      expect(found, `${name} in ${service}: ${spans.map((s) => `${s.service}/${s.name}`).join(', ')}`).toHaveLength(1)
      return found[0]!
    }
    const request = spans.find((span) => span.name === 'POST /api/orders' && span.service === 'mailroom-web')!
    expect(request.parentSpanId).toBe(client.spanId)
    const send = one('send sales', 'mailroom-web')
    const sales = one('process sales', 'mailroom-sales')
    expect(parentOf(sales)).toBe(send)
    const placedEvent = one('publish OrderPlaced', 'mailroom-sales')
    expect(parentOf(placedEvent)).toBe(sales)
    const billingAttempts = spans.filter((span) => span.name === 'process billing' && span.service === 'mailroom-billing')
    expect(billingAttempts).toHaveLength(2)
    for (const attempt of billingAttempts) expect(parentOf(attempt)).toBe(placedEvent)
    const failed = billingAttempts.find((span) => span.status.code === 2)!
    const delayed = billingAttempts.find((span) => span !== failed)!
    expect(failed.events.map((event) => event.name)).toEqual(['exception', 'mailroom.retry.immediate', 'exception', 'mailroom.retry.delayed'])
    expect(delayed.links).toEqual([{ traceId: client.traceId, spanId: failed.spanId }])
    const billed = one('publish OrderBilled', 'mailroom-billing')
    expect(parentOf(billed)).toBe(delayed)
    const shipping = spans.filter((span) => span.name === 'process shipping' && span.service === 'mailroom-shipping')
    expect(shipping.map((span) => parentOf(span)?.name).sort()).toEqual(['publish OrderBilled', 'publish OrderPlaced'])
    expect(parentOf(one('publish OrderShipped', 'mailroom-shipping'))?.name).toBe('process shipping')
  })
})
