import { afterEach, describe, expect, it } from 'vitest'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { PlaceOrder } from '../../src/modules/sales/messages.js'
import { formSession, startConsole, type ConsoleUnderTest } from './support/console-app.js'

let running: ConsoleUnderTest | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const form = (url: string, fields: Record<string, string | string[]>, session: { cookie: string }, headers: Record<string, string> = {}) => {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) body.append(name, one)
  return { method: 'POST' as const, url, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie, ...headers }, payload: body.toString() }
}

describe('the pages', () => {
  it.each(['/', '/failed', '/monitoring'])('serves %s with security headers and a strict CSP', async (url) => {
    running = await startConsole()
    const response = await running.app.inject({ method: 'GET', url })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toContain('text/html')
    const csp = String(response.headers['content-security-policy'])
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN')
    expect(response.headers['referrer-policy']).toBe('same-origin')
    expect(response.headers['strict-transport-security']).toBeUndefined()
  })

  it('sends the same security headers on API answers and errors', async () => {
    running = await startConsole()
    for (const request of [{ method: 'GET' as const, url: '/api/modules' }, { method: 'POST' as const, url: '/api/orders', payload: { items: [] } }]) {
      const response = await running.app.inject(request)
      expect(String(response.headers['content-security-policy'])).toContain("default-src 'self'")
      expect(response.headers['x-content-type-options']).toBe('nosniff')
    }
  })

  it('shows a 404 page for an unknown conversation', async () => {
    running = await startConsole()
    const response = await running.app.inject({ method: 'GET', url: '/conversations/00000000-0000-0000-0000-000000000000' })
    expect(response.statusCode).toBe(404)
    expect(response.body).toContain('There is no conversation')
  })

  it('escapes every value it shows: markup in a failed message stays text', async () => {
    const clock = createVirtualClock()
    running = await startConsole({ clock, recoverability: { immediateRetries: 0, delayedRetries: { count: 0 } } })
    const { shop, app } = running
    shop.bus.admin.setFault('sales', true)
    await shop.bus.send(PlaceOrder, { orderId: 'xss-1', items: ['<script>alert("owned")</script>'] })
    await shop.bus.idle()
    const page = await app.inject({ method: 'GET', url: '/failed' })
    expect(page.body).toContain('&lt;script&gt;alert(')
    expect(page.body).not.toContain('<script>alert(')
    const search = await app.inject({ method: 'GET', url: `/failed?q=${encodeURIComponent('"><img src=x onerror=alert(1)>')}` })
    expect(search.body).not.toContain('<img src=x')
    expect(search.body).toContain('&quot;&gt;&lt;img')
  })

  it('draws a conversation as an SVG sequence diagram', async () => {
    running = await startConsole()
    const { app, shop } = running
    const { conversationId } = (await app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/json' }, payload: '{}' })).json()
    await shop.bus.idle()
    const page = await app.inject({ method: 'GET', url: `/conversations/${conversationId}` })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<svg')
    for (const lane of ['outside', 'sales', 'billing', 'shipping']) expect(page.body).toContain(`>${lane}</text>`)
    // PlaceOrder, OrderPlaced twice, OrderBilled (no buyer's-remorse window in this console).
    expect(page.body.match(/class="step handled"/g)).toHaveLength(4)
    expect(page.body).toContain('saga buyers-remorse')
    expect(page.body).toContain('saga shipping-policy')
  })
})

describe('the forms', () => {
  it('refuses a form post without a CSRF token (403), and takes one with it', async () => {
    running = await startConsole()
    const { app, shop } = running
    const session = await formSession(app)
    const refused = await app.inject(form('/actions/orders', {}, session))
    expect(refused.statusCode).toBe(403)
    expect(refused.json().code).toBe('MAILROOM_ERR_WEB_CSRF')
    const forged = await app.inject(form('/actions/orders', { _csrf: 'forged' }, session))
    expect(forged.statusCode).toBe(403)
    const accepted = await app.inject(form('/actions/orders', { _csrf: session.token }, session))
    expect(accepted.statusCode).toBe(303)
    expect(accepted.headers.location).toBe('/')
    await shop.bus.idle()
    expect(shop.bus.admin.module('sales').handled).toBe(1)
  })

  it('refuses a form posted from another origin even with a token', async () => {
    running = await startConsole()
    const session = await formSession(running.app)
    const response = await running.app.inject(form('/actions/orders', { _csrf: session.token }, session, { origin: 'https://evil.example' }))
    expect(response.statusCode).toBe(403)
  })

  it('answers JSON to the page script, and controls modules', async () => {
    running = await startConsole()
    const { app, shop } = running
    const session = await formSession(app)
    const stop = await app.inject(form('/actions/modules/billing/stop', { _csrf: session.token }, session, { accept: 'application/json' }))
    expect(stop.json()).toMatchObject({ name: 'billing', running: false })
    const fault = await app.inject(form('/actions/modules/billing/fault-on', { _csrf: session.token }, session, { accept: 'application/json' }))
    expect(fault.json()).toMatchObject({ faultInjected: true })
    expect(shop.bus.admin.module('billing')).toMatchObject({ running: false, faultInjected: true })
    const batch = await app.inject(form('/actions/orders/batch', { _csrf: session.token, count: '4' }, session, { accept: 'application/json' }))
    expect(batch.json().orderIds).toHaveLength(4)
    const tooMany = await app.inject(form('/actions/orders/batch', { _csrf: session.token, count: '100000' }, session))
    expect(tooMany.statusCode).toBe(400)
    const unknown = await app.inject(form('/actions/modules/nope/stop', { _csrf: session.token }, session))
    expect(unknown.statusCode).toBe(404)
  })

  it('retries the selection as it was shown, reporting what was already retried', async () => {
    const clock = createVirtualClock()
    running = await startConsole({ clock, recoverability: { immediateRetries: 0, delayedRetries: { count: 0 } } })
    const { app, shop } = running
    shop.bus.admin.setFault('sales', true)
    const a = await shop.bus.send(PlaceOrder, { orderId: 'a', items: ['x'] })
    const b = await shop.bus.send(PlaceOrder, { orderId: 'b', items: ['x'] })
    await shop.bus.idle()
    shop.bus.admin.setFault('sales', false)
    const session = await formSession(app)
    const shown = [`sales:${a.messageId}`, `sales:${b.messageId}`]
    // A failure that arrives after the page was rendered is not swept into "Retry all shown".
    shop.bus.admin.setFault('sales', true)
    const c = await shop.bus.send(PlaceOrder, { orderId: 'c', items: ['x'] })
    await shop.bus.idle()
    shop.bus.admin.setFault('sales', false)
    const first = await app.inject(form('/actions/failed/retry', { _csrf: session.token, ids: shown }, session))
    expect(first.statusCode).toBe(303)
    expect(decodeURIComponent(first.headers.location as string).replace(/\+/g, ' ')).toContain('done=Retried 2')
    const second = await app.inject(form('/actions/failed/retry', { _csrf: session.token, ids: shown }, session))
    expect(decodeURIComponent(second.headers.location as string).replace(/\+/g, ' ')).toContain('Retried 0; 2 were already retried or deleted')
    await shop.bus.idle()
    expect(shop.bus.admin.failedMessages().map((m) => m.id)).toEqual([c.messageId])
  })
})
