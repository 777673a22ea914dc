import { afterEach, describe, expect, it } from 'vitest'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { startConsole, type ConsoleUnderTest } from './support/console-app.js'

let running: ConsoleUnderTest | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function start(options: Parameters<typeof startConsole>[0] = {}) {
  running = await startConsole(options)
  return running
}

const json = (url: string, body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url,
  headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify(body),
})

describe('POST /api/orders', () => {
  it('accepts an order (202) and the order ends placed, billed and shipped', async () => {
    const { app, shop } = await start()
    const response = await app.inject(json('/api/orders', { items: ['book'] }))
    expect(response.statusCode).toBe(202)
    const { orderId, messageId, conversationId } = response.json()
    expect(orderId).toMatch(/^ord-[0-9a-f]{8}$/)
    expect(conversationId).toBe(messageId)
    await shop.bus.idle()
    const order = await app.inject({ method: 'GET', url: `/api/orders/${orderId}` })
    expect(order.statusCode).toBe(200)
    expect(order.json()).toMatchObject({ orderId, sales: { placed: true, items: ['book'] }, billing: { billed: true }, shipping: { placed: true, billed: true, shipped: true } })
  })

  it.each([
    [{ items: [] }, 'body/items must NOT have fewer than 1 items'],
    [{ items: [''] }, 'body/items/0 must NOT have fewer than 1 characters'],
    [{ items: 'book' }, 'body/items must be array'],
    [{ items: ['book'], price: 3 }, 'body must NOT have additional properties'],
  ])('refuses %j with a 400 naming the field', async (body, message) => {
    const { app, shop } = await start()
    const response = await app.inject(json('/api/orders', body))
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_INVALID_REQUEST', message })
    expect(shop.bus.admin.module('sales').handled + shop.bus.admin.module('sales').queueLength).toBe(0)
  })

  it('refuses a body that is not JSON (415) and malformed JSON (400)', async () => {
    const { app } = await start()
    const text = await app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'text/plain' }, payload: 'items=book' })
    expect(text.statusCode).toBe(415)
    expect(text.json().code).toBe('MAILROOM_ERR_WEB_UNSUPPORTED_MEDIA_TYPE')
    const form = await app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'items=book' })
    expect(form.statusCode).toBe(415)
    const broken = await app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/json' }, payload: '{"items": [' })
    expect(broken.statusCode).toBe(400)
  })

  it('refuses requests from another origin (403)', async () => {
    const { app } = await start()
    const response = await app.inject(json('/api/orders', {}, { origin: 'https://evil.example' }))
    expect(response.statusCode).toBe(403)
    expect(response.json().code).toBe('MAILROOM_ERR_WEB_CROSS_ORIGIN')
    const fetchMeta = await app.inject(json('/api/orders', {}, { 'sec-fetch-site': 'cross-site' }))
    expect(fetchMeta.statusCode).toBe(403)
  })

  it('refuses a body over the size limit (413)', async () => {
    const { app } = await start()
    const response = await app.inject(json('/api/orders', { items: ['x'.repeat(70_000)] }))
    expect(response.statusCode).toBe(413)
  })
})

describe('POST /api/orders/batch', () => {
  it('places count orders at once', async () => {
    const { app, shop } = await start()
    const response = await app.inject(json('/api/orders/batch', { count: 3 }))
    expect(response.statusCode).toBe(202)
    expect(response.json().orderIds).toHaveLength(3)
    await shop.bus.idle()
    // The console under test has no buyer's-remorse window: one message per order for Sales.
    expect(shop.bus.admin.module('sales').handled).toBe(3)
  })

  it.each([[{ count: 0 }, 'body/count must be >= 1'], [{ count: 1001 }, 'body/count must be <= 1000'], [{ count: 'ten' }, 'body/count must be integer'], [{}, "body must have required property 'count'"]])(
    'refuses %j',
    async (body, message) => {
      const { app } = await start()
      const response = await app.inject(json('/api/orders/batch', body))
      expect(response.statusCode).toBe(400)
      expect(response.json().message).toBe(message)
    },
  )
})

describe('GET /api/orders/:id', () => {
  it('answers 404 for an order nobody knows and 400 for an id that cannot be one', async () => {
    const { app } = await start()
    expect((await app.inject({ method: 'GET', url: '/api/orders/ord-nope' })).statusCode).toBe(404)
    const traversal = await app.inject({ method: 'GET', url: '/api/orders/..%2F..%2Fetc%2Fpasswd' })
    expect(traversal.statusCode).toBe(400)
    expect(traversal.json().message).toContain('params/id must match pattern')
  })
})

describe('the module API', () => {
  it('lists modules with their counters', async () => {
    const { app } = await start()
    const modules = (await app.inject({ method: 'GET', url: '/api/modules' })).json()
    expect(modules.map((m: { name: string }) => m.name)).toEqual(['sales', 'billing', 'shipping'])
    expect(modules[0]).toMatchObject({ name: 'sales', running: true, faultInjected: false, queueLength: 0, inFlight: 0, handled: 0, failed: 0 })
  })

  it('stops and starts a module; its queue waits meanwhile', async () => {
    const { app, shop } = await start()
    expect((await app.inject(json('/api/modules/shipping/stop', {}))).json()).toMatchObject({ name: 'shipping', running: false })
    await app.inject(json('/api/orders/batch', { count: 5 }))
    await shop.bus.idle()
    expect(shop.bus.admin.module('shipping').queueLength).toBe(10)
    expect((await app.inject(json('/api/modules/shipping/start', {}))).json()).toMatchObject({ running: true })
    await shop.bus.idle()
    expect(shop.bus.admin.module('shipping')).toMatchObject({ queueLength: 0, handled: 10 })
  })

  it('answers 404 for an unknown module and 400 for a bad fault body', async () => {
    const { app } = await start()
    const unknown = await app.inject(json('/api/modules/warehouse/stop', {}))
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_NOT_FOUND', message: "No module 'warehouse'." })
    const bad = await app.inject(json('/api/modules/sales/fault', { on: 'yes' }))
    expect(bad.statusCode).toBe(400)
    expect(bad.json().message).toBe('body/on must be boolean')
  })
})

describe("cancelling an order (the buyer's-remorse saga)", () => {
  it('cancels an order inside its window: OrderCancelled, never billed or shipped', async () => {
    const { app, shop } = await start({ buyersRemorseMs: 60_000 })
    const { orderId } = (await app.inject(json('/api/orders', {}))).json()
    await shop.bus.idle()
    expect((await app.inject({ method: 'GET', url: `/api/orders/${orderId}` })).json().sales).toMatchObject({ inWindow: true, placed: false })
    expect(shop.bus.admin.sagas('sales')).toEqual([{ saga: 'buyers-remorse', id: orderId, data: { orderId, items: ['Mailroom T-shirt'] } }])
    const cancel = await app.inject(json(`/api/orders/${orderId}/cancel`, {}))
    expect(cancel.statusCode).toBe(202)
    expect(cancel.json()).toMatchObject({ orderId })
    await shop.bus.idle()
    const view = (await app.inject({ method: 'GET', url: `/api/orders/${orderId}` })).json()
    expect(view.sales).toMatchObject({ cancelled: true, placed: false, inWindow: false })
    expect(view.billing).toEqual({ billed: false })
    expect(view.shipping).toEqual({ shipped: false })
    expect(shop.bus.admin.sagas('sales')).toEqual([])
    const again = await app.inject(json(`/api/orders/${orderId}/cancel`, {}))
    expect(again.statusCode).toBe(409)
    expect(again.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_CONFLICT', message: `Order '${orderId}' can no longer be cancelled: it is already cancelled.` })
  })

  it('refuses to cancel an order past its window (409) or one that does not exist (404)', async () => {
    const { app, shop } = await start()
    const { orderId } = (await app.inject(json('/api/orders', {}))).json()
    await shop.bus.idle()
    expect((await app.inject(json(`/api/orders/${orderId}/cancel`, {}))).statusCode).toBe(409)
    expect((await app.inject(json('/api/orders/ord-nothere/cancel', {}))).statusCode).toBe(404)
    expect((await app.inject(json('/api/orders/..%2F..%2Fetc/cancel', {}))).statusCode).toBe(400)
  })

  // Performs docs/workshop.md, exercise "Sagas: a window to cancel, and shipping that waits for two events".
  it('shows the shipment delayed while billing is late, and shipped once it comes', async () => {
    const clock = createVirtualClock()
    const { app, shop } = await start({ clock, billingWaitMs: 30_000 })
    await app.inject(json('/api/modules/billing/stop', {}))
    const { orderId } = (await app.inject(json('/api/orders', {}))).json()
    await shop.bus.idle()
    clock.advance(30_000)
    await shop.bus.idle()
    expect((await app.inject({ method: 'GET', url: `/api/orders/${orderId}` })).json().shipping).toMatchObject({ placed: true, billed: false, delayed: true, shipped: false })
    expect(shop.bus.admin.logs('shipping').map((line) => line.text)).toContain(`Order ${orderId} is still not billed: telling the client its shipment is delayed`)
    await app.inject(json('/api/modules/billing/start', {}))
    await shop.bus.idle()
    expect((await app.inject({ method: 'GET', url: `/api/orders/${orderId}` })).json().shipping).toMatchObject({ delayed: true, shipped: true })
  })

  it('marks the saga steps of a conversation', async () => {
    const clock = createVirtualClock()
    const { app, shop } = await start({ clock, buyersRemorseMs: 10_000 })
    const { conversationId } = (await app.inject(json('/api/orders', {}))).json()
    await shop.bus.idle()
    clock.advance(10_000)
    await shop.bus.idle()
    const body = (await app.inject({ method: 'GET', url: `/api/conversations/${conversationId}` })).json()
    const sagaSteps = body.messages.filter((m: { sagas?: string[] }) => m.sagas).map((m: { type: string; to: string; sagas: string[] }) => `${m.type} ${m.to} ${m.sagas.join(',')}`)
    expect(sagaSteps.sort()).toEqual(
      ['PlaceOrder sales buyers-remorse', 'BuyersRemorseIsOver sales buyers-remorse', 'OrderPlaced shipping shipping-policy', 'OrderBilled shipping shipping-policy'].sort(),
    )
  })
})

describe('the failed-message API', () => {
  async function failTwoOrders() {
    const clock = createVirtualClock()
    const harness = await start({ clock })
    const { app, shop } = harness
    await app.inject(json('/api/modules/sales/fault', { on: true }))
    const a = (await app.inject(json('/api/orders', {}))).json()
    const b = (await app.inject(json('/api/orders', {}))).json()
    await shop.bus.idle()
    clock.advance(50)
    await shop.bus.idle()
    return { ...harness, clock, a, b }
  }

  it('groups failures by exception type and message, with the retry schedule', async () => {
    const { app } = await failTwoOrders()
    const body = (await app.inject({ method: 'GET', url: '/api/failed' })).json()
    expect(body.groups).toHaveLength(1)
    expect(body.groups[0]).toMatchObject({ exceptionType: 'InjectedFaultError', count: 2 })
    expect(body.groups[0].key).toMatch(/^[0-9a-f]{16}$/)
    expect(body.groups[0].messages[0]).toMatchObject({ module: 'sales', type: 'PlaceOrder' })
    expect(body.groups[0].messages[0].failures).toHaveLength(4)
    expect(body.schedules.sales.text).toBe('1 immediate, then 50 ms; 4 attempts at most')
  })

  it('retries a group, after which the orders flow on to Shipping', async () => {
    const { app, shop, a, b } = await failTwoOrders()
    const key = (await app.inject({ method: 'GET', url: '/api/failed' })).json().groups[0].key
    await app.inject(json('/api/modules/sales/fault', { on: false }))
    const retried = (await app.inject(json('/api/failed/retry', { group: key }))).json()
    expect(retried.retried).toHaveLength(2)
    await shop.bus.idle()
    for (const order of [a, b]) expect((await shop.order(order.orderId))?.shipping).toMatchObject({ shipped: true })
    expect((await app.inject({ method: 'GET', url: '/api/failed' })).json().groups).toEqual([])
  })

  it('retries by ids and by all, once each', async () => {
    const { app, shop, a } = await failTwoOrders()
    await app.inject(json('/api/modules/sales/fault', { on: false }))
    const first = (await app.inject(json('/api/failed/retry', { ids: [a.messageId] }))).json()
    const again = (await app.inject(json('/api/failed/retry', { ids: [a.messageId] }))).json()
    expect(first.retried).toEqual([`sales:${a.messageId}`])
    expect(again).toEqual({ retried: [], notFound: [a.messageId] })
    const rest = (await app.inject(json('/api/failed/retry', { all: true }))).json()
    expect(rest.retried).toHaveLength(1)
    await shop.bus.idle()
    expect(shop.bus.admin.module('sales').handled).toBe(2)
  })

  it('deletes (archives) failed messages', async () => {
    const { app, a } = await failTwoOrders()
    const deleted = (await app.inject(json('/api/failed/delete', { ids: [`sales:${a.messageId}`] }))).json()
    expect(deleted).toEqual({ deleted: [`sales:${a.messageId}`], notFound: [] })
    expect((await app.inject({ method: 'GET', url: '/api/failed' })).json().groups[0].count).toBe(1)
  })

  it.each([[{}], [{ ids: [] }], [{ group: 'nope' }], [{ all: false }], [{ ids: ['a'], all: true }]])('refuses the retry body %j', async (body) => {
    const { app } = await start()
    expect((await app.inject(json('/api/failed/retry', body))).statusCode).toBe(400)
  })

  it('refuses a group key that matches no group', async () => {
    const { app } = await start()
    const response = await app.inject(json('/api/failed/retry', { group: '0123456789abcdef' }))
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toContain('body/group')
  })
})

describe('GET /api/conversations/:id', () => {
  it("lists an order's messages with kind, from, to and outcome, ending with OrderShipped published to no subscribers", async () => {
    const { app, shop } = await start()
    const { conversationId } = (await app.inject(json('/api/orders', {}))).json()
    await shop.bus.idle()
    const body = (await app.inject({ method: 'GET', url: `/api/conversations/${conversationId}` })).json()
    const steps = body.messages.map((m: { type: string; from: string; to: string; outcome: string }) => `${m.type} ${m.from}->${m.to} ${m.outcome}`)
    expect(steps.sort()).toEqual(
      [
        'PlaceOrder outside->sales handled',
        'OrderPlaced sales->billing handled',
        'OrderPlaced sales->shipping handled',
        'OrderBilled billing->shipping handled',
        'OrderShipped shipping->(no subscribers) published',
      ].sort(),
    )
    // The flow's last step: shipping's handling of the second event, then the event nobody takes.
    expect(body.messages.at(-1)).toMatchObject({ type: 'OrderShipped', kind: 'event', outcome: 'published' })
  })

  it('lists each failed attempt with what comes next and why, then the retry from the error queue', async () => {
    const clock = createVirtualClock()
    const { app, shop } = await start({ clock })
    await app.inject(json('/api/modules/sales/fault', { on: true }))
    const { conversationId, messageId } = (await app.inject(json('/api/orders', {}))).json()
    await shop.bus.idle()
    clock.advance(50)
    await shop.bus.idle()
    await app.inject(json('/api/modules/sales/fault', { on: false }))
    await app.inject(json('/api/failed/retry', { ids: [messageId] }))
    await shop.bus.idle()
    const body = (await app.inject({ method: 'GET', url: `/api/conversations/${conversationId}` })).json()
    const placeOrder = body.messages.filter((m: { type: string }) => m.type === 'PlaceOrder')
    expect(placeOrder.map((m: { outcome: string }) => m.outcome)).toEqual(['retrying', 'delayed-retry', 'retrying', 'error-queue', 'retried', 'handled'])
    for (const step of placeOrder.slice(0, 4)) expect(step).toMatchObject({ from: 'outside', to: 'sales', detail: expect.stringMatching(/^InjectedFaultError: /) })
    expect(placeOrder[5]).not.toHaveProperty('detail')
  })

  it('answers 404 for an unknown conversation and 400 for a malformed id', async () => {
    const { app } = await start()
    expect((await app.inject({ method: 'GET', url: '/api/conversations/00000000-0000-0000-0000-000000000000' })).statusCode).toBe(404)
    expect((await app.inject({ method: 'GET', url: '/api/conversations/<script>' })).statusCode).toBe(400)
  })
})

describe('GET /metrics', () => {
  it('speaks the Prometheus text format', async () => {
    const { app, shop } = await start()
    await app.inject(json('/api/orders', {}))
    await shop.bus.idle()
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    expect(response.headers['content-type']).toContain('text/plain')
    expect(response.body).toContain('mailroom_handled_total{module="sales"} 1')
    expect(response.body).toContain('# TYPE mailroom_queue_length gauge')
    expect(response.body).toContain('# TYPE mailroom_queue_on_disk gauge')
  })
})
