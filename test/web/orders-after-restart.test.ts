import { describe, expect, it } from 'vitest'
import { createMemoryFileSystem } from '../../src/bus/index.js'
import { startConsole } from './support/console-app.js'

const json = { 'content-type': 'application/json' }

describe('the order list and order pages', () => {
  it('list every order newest first, a page at a time, and answer each one, also after a restart', async () => {
    const fileSystem = createMemoryFileSystem()
    let running = await startConsole({ fileSystem, gatewayLimitPerSecond: undefined, billingMaxPerSecond: undefined })
    const placed: { orderId: string; conversationId: string }[] = []
    for (let i = 0; i < 12; i++) {
      const reply = await running.app.inject({ method: 'POST', url: '/api/orders', headers: json, payload: {} })
      expect(reply.statusCode).toBe(202)
      placed.push(reply.json())
    }
    await running.shop.bus.idle()
    await running.close()

    running = await startConsole({ fileSystem, gatewayLimitPerSecond: undefined, billingMaxPerSecond: undefined })
    const { app } = running
    const seen: { orderId: string; conversationId: string; shipped: boolean }[] = []
    let cursor: string | undefined
    do {
      const reply = await app.inject({ method: 'GET', url: `/api/orders?limit=5${cursor ? `&cursor=${cursor}` : ''}` })
      expect(reply.statusCode).toBe(200)
      const page = reply.json() as { items: typeof seen; next?: string }
      expect(page.items.length).toBeLessThanOrEqual(5)
      seen.push(...page.items)
      cursor = page.next
    } while (cursor)
    expect(seen.map((order) => order.orderId)).toEqual(placed.map((order) => order.orderId).reverse())
    expect(seen.map((order) => order.conversationId)).toEqual(placed.map((order) => order.conversationId).reverse())
    expect(seen.every((order) => order.shipped)).toBe(true)
    for (const order of placed) {
      const reply = await app.inject({ method: 'GET', url: `/api/orders/${order.orderId}` })
      expect(reply.statusCode).toBe(200)
      expect(reply.json()).toMatchObject({ orderId: order.orderId, conversationId: order.conversationId, sales: { placed: true }, billing: { billed: true }, shipping: { shipped: true } })
    }
    // The console's pages over the same data.
    const list = await app.inject({ method: 'GET', url: '/orders' })
    for (const order of placed) expect(list.body).toContain(order.orderId)
    const shopPage = await app.inject({ method: 'GET', url: '/' })
    expect(shopPage.body).toMatch(/charged twice: <strong data-gateway-field="chargedTwice">0<\/strong>/)
    expect(shopPage.body).toMatch(/<strong data-gateway-field="charged">12<\/strong> charged/)
    await running.close()
  })

  it('refuses a malformed cursor or limit with a 400 naming the field', async () => {
    const running = await startConsole()
    const badCursor = await running.app.inject({ method: 'GET', url: '/api/orders?cursor=abc' })
    expect(badCursor.statusCode).toBe(400)
    expect(badCursor.json().message).toContain('cursor')
    const badLimit = await running.app.inject({ method: 'GET', url: '/api/orders?limit=0' })
    expect(badLimit.statusCode).toBe(400)
    expect(badLimit.json().message).toContain('limit')
    await running.close()
  })
})
