import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startConsole, type ConsoleUnderTest } from '../web/support/console-app.js'
import { SpanTree } from './support/span-tree.js'
import { clientTraceparent, spansOfTrace, startRecordedTelemetry } from './support/traced-shop.js'

const recorded = startRecordedTelemetry()
afterAll(() => recorded.telemetry.shutdown())

let shop: (ConsoleUnderTest & { url: string }) | undefined
beforeAll(() => recorded.spans.reset())
afterEach(async () => {
  await shop?.close()
  shop = undefined
  recorded.spans.reset()
})

/** Places an order over HTTP as a client that traces its own call would, and waits until it shipped. */
async function placeTracedOrder(url: string, traceparent: string): Promise<string> {
  const response = await fetch(`${url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent }, body: JSON.stringify({ items: ['book'] }) })
  expect(response.status).toBe(202)
  const { orderId } = (await response.json()) as { orderId: string }
  await expect.poll(async () => ((await (await fetch(`${url}/api/orders/${orderId}`)).json()) as { shipping?: { shipped?: boolean } }).shipping?.shipped, { timeout: 10_000 }).toBe(true)
  await shop!.shop.bus.idle()
  return orderId
}

const attribute = (span: ReadableSpan, name: string) => span.attributes[name]

describe('an order placed over HTTP, traced', () => {
  it('is one trace: the request, PlaceOrder sent and processed in Sales, OrderPlaced in Billing and Shipping, OrderBilled, OrderShipped', async () => {
    shop = await startConsole({ listen: true, traceUrl: 'http://jaeger.example:16686/trace/{traceId}' })
    const client = clientTraceparent()
    const orderId = await placeTracedOrder(shop.url, client.header)
    const tree = new SpanTree(spansOfTrace(await recorded.finishedSpans(), client.traceId))
    const why = `\n${tree.render()}`
    if (process.env.SHOW_TREE) console.log(why)

    // 1. Fastify's request span continues the client's trace.
    const request = tree.spans.find((span) => span.name === 'POST /api/orders' && span.kind === SpanKind.SERVER)
    expect(request, why).toBeDefined()
    expect(request!.parentSpanContext?.spanId).toBe(client.spanId)

    // 2. The route's send is a child (through Fastify's handler span) of the request, and Sales' processing a child of the send.
    const send = tree.one('send sales')
    expect(send.kind).toBe(SpanKind.PRODUCER)
    expect(tree.ancestry(send), why).toContain('POST /api/orders')
    const placeOrder = tree.one('process sales')
    expect(placeOrder.kind).toBe(SpanKind.CONSUMER)
    expect(tree.parentOf(placeOrder), why).toBe(send)
    expect(placeOrder.attributes).toMatchObject({
      'messaging.system': 'mailroom',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'sales',
      'mailroom.message.type': 'PlaceOrder',
    })
    expect(attribute(placeOrder, 'messaging.message.id')).toBe(attribute(send, 'messaging.message.id'))
    const conversationId = attribute(send, 'messaging.message.conversation_id')
    expect(conversationId).toBe(attribute(send, 'messaging.message.id'))

    // 3. OrderPlaced is published by Sales' processing and processed by Billing and Shipping.
    const placed = tree.one('publish OrderPlaced')
    expect(tree.parentOf(placed)).toBe(placeOrder)
    expect(placed.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.destination.name': 'OrderPlaced' })
    const billing = tree.one('process billing')
    expect(tree.parentOf(billing)).toBe(placed)
    const shippingRuns = tree.named('process shipping')
    expect(shippingRuns.map((span) => attribute(span, 'mailroom.message.type')).sort(), why).toEqual(['OrderBilled', 'OrderPlaced'])
    expect(tree.parentOf(shippingRuns.find((span) => attribute(span, 'mailroom.message.type') === 'OrderPlaced')!)).toBe(placed)

    // 4. OrderBilled from Billing's processing reaches Shipping; Shipping publishes OrderShipped.
    const billed = tree.one('publish OrderBilled')
    expect(tree.parentOf(billed)).toBe(billing)
    const shipsIt = shippingRuns.find((span) => attribute(span, 'mailroom.message.type') === 'OrderBilled')!
    expect(tree.parentOf(shipsIt)).toBe(billed)
    expect(tree.named('publish OrderShipped').length, why).toBe(1)
    expect(tree.ancestry(tree.one('publish OrderShipped'))[0]).toBe('process shipping')

    // 5. One conversation, every message span says so; nothing failed.
    for (const span of tree.spans.filter((s) => s.attributes['messaging.system'] === 'mailroom')) {
      expect(span.attributes['messaging.message.conversation_id'], `${span.name}${why}`).toBe(conversationId)
      expect(span.status.code, `${span.name}${why}`).not.toBe(SpanStatusCode.ERROR)
    }
    expect(orderId).toMatch(/^ord-/)

    // 6. The console's log panels name each line's trace (hover a line for its id) and link to it in the viewer.
    const page = await (await fetch(`${shop!.url}/`)).text()
    expect(page).toContain(`title="trace ${client.traceId}"`)
    expect(page).toContain(`<a class="trace-link" href="http://jaeger.example:16686/trace/${client.traceId}"`)
  })

  it('keeps the trace through an immediate retry and a delayed one, the delayed attempt linked to the one that failed', async () => {
    shop = await startConsole({ listen: true, recoverability: { immediateRetries: 1, delayedRetries: { count: 1, baseDelayMs: 1_500 } } })
    const bus = shop.shop.bus
    // 1. Billing breaks (as the console's "Inject fault" does); mended as soon as its first delivery gave up for now.
    expect((await fetch(`${shop.url}/api/modules/billing/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: true }) })).status).toBe(200)
    const leftForLater = new Promise<void>((resolve) => {
      bus.signals.on('message:failed', ({ module, next }) => {
        if (module === 'billing' && next === 'delayed-retry') resolve()
      })
    })
    const client = clientTraceparent()
    const placing = placeTracedOrder(shop.url, client.header)
    await leftForLater
    expect((await fetch(`${shop.url}/api/modules/billing/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: false }) })).status).toBe(200)
    await placing

    // 2. Both of Billing's deliveries are in the client's trace, children of the publish.
    const tree = new SpanTree(spansOfTrace(await recorded.finishedSpans(), client.traceId))
    const why = `\n${tree.render()}`
    const placed = tree.one('publish OrderPlaced')
    const attempts = tree.named('process billing').sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    expect(attempts.length, why).toBe(2)
    const [failed, delayed] = attempts as [ReadableSpan, ReadableSpan]
    expect(tree.parentOf(failed)).toBe(placed)
    expect(tree.parentOf(delayed)).toBe(placed)

    // 3. The first delivery: two attempts (one immediate retry), then left for a delayed retry, as events; an error.
    expect(failed.events.map((event) => event.name)).toEqual(['exception', 'mailroom.retry.immediate', 'exception', 'mailroom.retry.delayed'])
    expect(failed.events.at(-1)!.attributes).toMatchObject({ 'mailroom.retry.delay_ms': 1_500 })
    expect(failed.status.code).toBe(SpanStatusCode.ERROR)
    expect(failed.attributes['error.type']).toBe('InjectedFaultError')

    // 4. The delayed attempt points back at the one that failed, says it is the first delayed round, and succeeds.
    expect(delayed.links.map((link) => link.context.spanId)).toEqual([failed.spanContext().spanId])
    expect(delayed.attributes['mailroom.delayed_retries']).toBe(1)
    expect(delayed.status.code).not.toBe(SpanStatusCode.ERROR)
    expect(tree.parentOf(tree.one('publish OrderBilled'))).toBe(delayed)
  })
})
