import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { formSession, startConsole, type ConsoleUnderTest } from './support/console-app.js'

let running: ConsoleUnderTest | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const post = (url: string, payload: string, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url,
  headers: { 'content-type': 'application/json', ...headers },
  payload,
})

/** What an attacker could change: accepted messages and module state. */
function footprint(running: ConsoleUnderTest) {
  const { bus } = running.shop
  return JSON.stringify({ journal: bus.admin.journalBytes(), modules: bus.admin.modules().map(({ name, running, faultInjected }) => ({ name, running, faultInjected })) })
}

describe('hostile input to the web', () => {
  it('answers random JSON bodies on every JSON route with a 2xx or a clear 4xx, never a 5xx', async () => {
    running = await startConsole()
    const { app } = running
    const routes = ['/api/orders', '/api/orders/batch', '/api/failed/retry', '/api/failed/delete', '/api/modules/sales/fault', '/api/orders/ord-1/cancel']
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 3 }), async (url, body) => {
        // Orders accepted by earlier runs are still moving through the modules: let them settle first.
        await running!.shop.bus.idle()
        const before = footprint(running!)
        const response = await app.inject(post(url, JSON.stringify(body) ?? 'null'))
        expect(response.statusCode, `${url} ${JSON.stringify(body)}`).toBeLessThan(500)
        if (response.statusCode >= 400) {
          expect(response.json().code).toMatch(/^MAILROOM_ERR_/)
          await running!.shop.bus.idle()
          expect(footprint(running!)).toBe(before)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('answers random bytes, oversized bodies and wrong content types with 4xx, changing nothing', async () => {
    running = await startConsole()
    const { app } = running
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const response = await app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/json' }, payload: Buffer.from(bytes) })
        expect([202, 400]).toContain(response.statusCode)
      }),
      { numRuns: 200 },
    )
    // Random bytes that happen to be a valid order are orders; only refusals are checked for no effect here.
    const oversized = await app.inject(post('/api/orders', JSON.stringify({ items: ['x'.repeat(70 * 1024)] })))
    expect(oversized.statusCode).toBe(413)
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const response = await app.inject(post('/api/orders', '{}', { 'content-type': type }))
      expect(response.statusCode, type).toBe(415)
    }
    const unknownField = await app.inject(post('/api/orders', JSON.stringify({ items: ['book'], price: 0 })))
    expect(unknownField.statusCode).toBe(400)
    expect(unknownField.json().message).toContain('must NOT have additional properties')
    const huge = await app.inject(post('/api/orders/batch', JSON.stringify({ count: 1e9 })))
    expect(huge.statusCode).toBe(400)
    expect(huge.json().message).toBe('body/count must be <= 1000')
    expect(running.shop.bus.admin.modules().every((module) => module.running && !module.faultInjected)).toBe(true)
  })

  it('refuses path traversal and markup in ids with 400 or 404', async () => {
    running = await startConsole()
    const { app } = running
    const before = footprint(running)
    for (const [method, url] of [
      ['GET', '/api/orders/..%2F..%2Fetc%2Fpasswd'],
      ['GET', '/api/orders/%3Cscript%3E'],
      ['POST', '/api/orders/..%2F..%2Fetc/cancel'],
      ['GET', '/api/conversations/..%2F..%2Fdata'],
      ['POST', '/api/modules/..%2Fsales/stop'],
      ['POST', '/api/modules/%3Cb%3E/fault'],
      ['GET', '/conversations/%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
      ['GET', '/public/..%2F..%2Fpackage.json'],
    ] as const) {
      const response = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: method === 'POST' ? '{}' : undefined })
      expect([400, 404], `${method} ${url}`).toContain(response.statusCode)
      expect(response.body).not.toContain('<script>')
      expect(response.body).not.toContain('"dependencies"')
    }
    expect(footprint(running)).toBe(before)
  })

  it('refuses form posts without a CSRF token and JSON posts from another origin, for every action', async () => {
    running = await startConsole({ buyersRemorseMs: 60_000 })
    const { app, shop } = running
    const { orderId } = (await app.inject(post('/api/orders', '{}'))).json()
    await shop.bus.idle()
    const before = footprint(running)
    const session = await formSession(app)
    for (const url of ['/actions/orders', '/actions/orders/batch', `/actions/orders/${orderId}/cancel`, '/actions/modules/sales/stop', '/actions/modules/sales/fault-on', '/actions/failed/retry', '/actions/failed/delete']) {
      const response = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie }, payload: 'count=5' })
      expect(response.statusCode, url).toBe(403)
      expect(response.json().code).toBe('MAILROOM_ERR_WEB_CSRF')
    }
    for (const url of ['/api/orders', `/api/orders/${orderId}/cancel`, '/api/modules/sales/stop', '/api/failed/retry']) {
      const response = await app.inject(post(url, '{}', { origin: 'https://evil.example' }))
      expect(response.statusCode, url).toBe(403)
      expect(response.json().code).toBe('MAILROOM_ERR_WEB_CROSS_ORIGIN')
    }
    await shop.bus.idle()
    expect(footprint(running)).toBe(before)
    expect((await shop.order(orderId))?.sales).toMatchObject({ inWindow: true })
  })

  it('shows markup sent in an order as text wherever it appears', async () => {
    running = await startConsole({ buyersRemorseMs: 60_000 })
    const { app, shop } = running
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    expect((await app.inject(post('/api/orders', JSON.stringify({ items: [evil] })))).statusCode).toBe(202)
    await shop.bus.idle()
    const page = await app.inject({ method: 'GET', url: '/' })
    // The Sales panel's Sagas section shows the instance's data, items included.
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page.body).not.toContain(evil)
    expect(page.body).not.toContain('<img src=x')
  })
})
