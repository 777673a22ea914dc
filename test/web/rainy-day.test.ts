import { afterEach, describe, expect, it } from 'vitest'
import type { ComparisonReport } from '../../src/demos/rainy-day/comparison.js'
import { formSession, startConsole, type ConsoleUnderTest } from './support/console-app.js'

let running: (ConsoleUnderTest & { url: string }) | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const post = (body: unknown) => ({ method: 'POST' as const, url: '/api/rainy-day/runs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })

/** Reads the latest run through the API until it is done. */
async function finished(console: ConsoleUnderTest): Promise<ComparisonReport> {
  const state = () => console.app.inject({ method: 'GET', url: '/api/rainy-day' }).then((response) => response.json() as { running: boolean; latest: ComparisonReport })
  await expect.poll(async () => (await state()).running, { timeout: 30_000, interval: 100 }).toBe(false)
  return (await state()).latest
}

describe('the rainy day through the HTTP API', { timeout: 60_000 }, () => {
  it.each([
    [{ orders: 0 }, 'body/orders must be >= 1'],
    [{ orders: 1001 }, 'body/orders must be <= 1000'],
    [{ clients: 101 }, 'body/clients must be <= 100'],
    [{ orders: '20' }, 'body/orders must be integer'],
    [{ stop: 'payments' }, 'body/stop must be equal to constant'],
    [{ sides: 'neither' }, 'body/sides must be equal to constant'],
    [{ weather: 'rain' }, 'body must NOT have additional properties'],
  ])('refuses %j with a 400 naming the field, and starts nothing', async (body, message) => {
    running = await startConsole({ listen: true })
    const response = await running.app.inject(post(body))
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_INVALID_REQUEST' })
    expect(response.json().message).toContain(message)
    expect((await running.app.inject({ method: 'GET', url: '/api/rainy-day' })).json()).toMatchObject({ running: false, latest: null })
  })

  it("refuses the form's numbers out of range with a 400 naming the field", async () => {
    running = await startConsole({ listen: true })
    const { token, cookie } = await formSession(running.app)
    const response = await running.app.inject({
      method: 'POST',
      url: '/actions/rainy-day',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, accept: 'application/json' },
      payload: new URLSearchParams({ _csrf: token, orders: '5000', clients: '10', stop: 'none', sides: 'both' }).toString(),
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toBe('body/orders must be between 1 and 1000')
  })

  it('says the console must listen: the campaign goes over HTTP', async () => {
    running = await startConsole()
    const response = await running.app.inject(post({}))
    expect(response.statusCode).toBe(409)
    expect(response.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_CONFLICT' })
    expect(response.json().message).toContain('must listen on a port')
  })

  it('runs one campaign at a time; the messaging side accepts, charges and ships every order once', async () => {
    running = await startConsole({ listen: true })
    const started = await running.app.inject(post({ orders: 30, clients: 5, sides: 'messaging' }))
    expect(started.statusCode).toBe(202)
    expect(started.json()).toMatchObject({ id: 1, state: 'running', settings: { orders: 30, clients: 5, stop: null, sides: 'messaging' }, synchronous: null })
    const second = await running.app.inject(post({}))
    expect(second.statusCode).toBe(409)
    expect(second.json().message).toContain('in progress')
    const report = await finished(running)
    expect(report.state).toBe('done')
    expect(report.synchronous).toBeNull()
    expect(report.messaging).toMatchObject({ orders: 30, answered: 30, accepted: 30, failed: 0, shipped: 30, charged: 30, chargedTwice: 0, failedButCharged: 0, settled: true })
    // The campaign's orders are the shop's: placed through its API, each shipped.
    const listed = (await running.shop.orders({ limit: 50 }))!.items
    expect(listed.filter((order) => order.shipped)).toHaveLength(30)
  })

  it('with Billing stopped, the chain refuses every client; messaging takes every order and bills it once Billing starts again', async () => {
    running = await startConsole({ listen: true })
    expect((await running.app.inject(post({ orders: 20, clients: 5, stop: 'billing' }))).statusCode).toBe(202)
    // Stopped for the campaign only.
    expect(running.shop.bus.admin.module('billing').running).toBe(false)
    const report = await finished(running)
    expect(report.synchronous).toMatchObject({ accepted: 0, failed: 20, shipped: 0, charged: 0, failedButCharged: 0 })
    expect(report.messaging).toMatchObject({ accepted: 20, failed: 0, shipped: 20, charged: 20, chargedTwice: 0 })
    expect(report.events.map((event) => event.text)).toEqual([
      'Billing stopped on both sides',
      'Campaign: 20 orders, 5 clients at once on each side',
      'Every client has its answer',
      'Billing started again',
      'Synchronous chain: 20 clients told their order failed, 0 of them charged anyway; 0 charged twice; 0 shipped',
      'Messaging: every accepted order shipped (20)',
    ])
    expect(running.shop.bus.admin.module('billing').running).toBe(true)
  })

  it('leaves a module a person stopped stopped, and says which orders did not ship', async () => {
    running = await startConsole({ listen: true, rainyDay: { settleMs: 500 } })
    running.shop.bus.admin.stopModule('shipping')
    expect((await running.app.inject(post({ orders: 5, clients: 5, sides: 'messaging', stop: 'shipping' }))).statusCode).toBe(202)
    const report = await finished(running)
    expect(report.messaging).toMatchObject({ accepted: 5, shipped: 0, settled: true })
    expect(report.events.at(-1)?.text).toBe('Messaging: 5 accepted orders not shipped after 0.5 s (is a module stopped?)')
    expect(running.shop.bus.admin.module('shipping').running).toBe(false)
  })

  it('renders the page with the latest figures', async () => {
    running = await startConsole({ listen: true })
    const empty = await running.app.inject({ method: 'GET', url: '/rainy-day' })
    expect(empty.statusCode).toBe(200)
    expect(empty.body).toContain('No run yet')
    await running.app.inject(post({ orders: 10, clients: 2, sides: 'messaging' }))
    await finished(running)
    const page = await running.app.inject({ method: 'GET', url: '/rainy-day' })
    expect(page.body).toContain('Run 1: done')
    expect(page.body).toMatch(/data-side="messaging" data-figure="shipped" class="">10</)
    expect(page.body).toMatch(/data-side="synchronous" data-figure="shipped" class=""></)
  })
})
