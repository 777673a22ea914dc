import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startConsole, type ConsoleUnderTest } from '../web/support/console-app.js'
import { artifactsDir, browserAvailable, launchBrowser } from './support/browser.js'

const available = browserAvailable()
let browser: Browser
let running: (ConsoleUnderTest & { url: string }) | undefined
let page: Page

beforeAll(async () => {
  if (available) browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})
afterEach(async () => {
  await page?.close()
  await running?.close()
  running = undefined
})

async function open(path: string, options: Parameters<typeof startConsole>[0] = {}) {
  running ??= await startConsole({ listen: true, ...options })
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
  await page.goto(`${running.url}${path}`)
  await page.locator('[data-live].on').waitFor()
  return { errors }
}

const panel = (name: string) => page.locator(`[data-module="${name}"]`)
const field = (name: string, key: string) => panel(name).locator(`[data-field="${key}"]`)
const screenshot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, artifactsDir).pathname, fullPage: true })

describe.runIf(available)('the console in a real browser', { timeout: 60_000 }, () => {
  // Performs docs/workshop.md, exercise "Send a command".
  it('places an order and shows it in the Sales, Billing and Shipping panels', async () => {
    const { errors } = await open('/')
    await page.getByRole('button', { name: 'Place order' }).click()
    const orderId = (await page.locator('[data-orders] tr code').first().textContent())!
    expect(orderId).toMatch(/^ord-/)
    await panel('sales').locator('[data-log] li', { hasText: `Received PlaceOrder, OrderId = ${orderId}` }).waitFor()
    await panel('billing').locator('[data-log] li', { hasText: `OrderId = ${orderId} - charging credit card` }).waitFor()
    await panel('shipping').locator('[data-log] li', { hasText: `Shipping order ${orderId}` }).waitFor()
    await page.locator(`[data-order="${orderId}"] .tick.yes`, { hasText: 'shipped' }).waitFor()
    await screenshot('shop')
    expect(errors).toEqual([])
  })

  it('shows each log line once when the page is loaded after lines were logged with no page open', async () => {
    // 1. Orders flow while nobody watches: the stream has lines to send and no one to send them to.
    running = await startConsole({ listen: true })
    const first = (await (await fetch(`${running.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', origin: running.url }, body: '{}' })).json()) as { orderId: string }
    await running.shop.bus.idle()
    // 2. The page renders the latest lines; the stream starts with the page open.
    const { errors } = await open('/')
    await panel('shipping').locator('[data-log] li', { hasText: `Shipping order ${first.orderId}` }).waitFor()
    // 3. A second order: once its lines are in, the stream has sent whatever it was going to.
    await page.getByRole('button', { name: 'Place order' }).click()
    await page.locator('[data-orders] tr').nth(1).waitFor()
    const second = (await page.locator('[data-orders] tr code').first().textContent())!
    expect(second).not.toBe(first.orderId)
    await panel('shipping').locator('[data-log] li', { hasText: `Shipping order ${second}` }).waitFor()
    for (const module of ['sales', 'billing', 'shipping']) {
      const lines = await panel(module).locator('[data-log] li').allTextContents()
      expect(lines.length, module).toBeGreaterThan(0)
      expect(new Set(lines).size, `${module}: ${lines.join(' | ')}`).toBe(lines.length)
    }
    await screenshot('logs-once')
    expect(errors).toEqual([])
  })

  // Performs docs/workshop.md, exercise "Sagas: a window to cancel, and shipping that waits for two events".
  it("cancels an order inside its buyer's-remorse window: it shows cancelled and is never shipped", async () => {
    const { errors } = await open('/', { buyersRemorseMs: 60_000 })
    await page.getByRole('button', { name: 'Place order' }).click()
    const row = page.locator('[data-orders] tr').first()
    await row.locator('.tick.window', { hasText: 'in window' }).waitFor()
    const orderId = (await row.locator('code').textContent())!
    await panel('sales').locator('[data-sagas] [data-saga-count]', { hasText: /^1$/ }).waitFor()
    await page.locator('[data-sagas] summary').first().click()
    await panel('sales').locator('[data-saga-list] li', { hasText: `buyers-remorse ${orderId}` }).waitFor()
    await screenshot('order-in-window')
    await row.getByRole('button', { name: 'Cancel' }).click()
    await page.locator(`[data-order="${orderId}"] .tick.cancelled`, { hasText: 'cancelled' }).waitFor()
    await panel('sales').locator('[data-log] li', { hasText: `Cancelled order ${orderId} inside its window` }).waitFor()
    await panel('sales').locator('[data-sagas] [data-saga-count]', { hasText: /^0$/ }).waitFor()
    await running!.shop.bus.idle()
    const view = (await running!.shop.order(orderId))!
    expect(view.sales).toMatchObject({ cancelled: true, placed: false })
    expect(view.shipping).toEqual({ shipped: false })
    expect(await field('billing', 'handled').textContent()).toBe('0')
    expect(await field('shipping', 'handled').textContent()).toBe('0')
    expect(await page.locator(`[data-order="${orderId}"] td`).nth(3).textContent()).toContain('—')
    await screenshot('order-cancelled')
    expect(errors).toEqual([])
  })

  // Performs docs/workshop.md, exercise "Stop a module and start it again".
  it('stops Shipping, lets its queue grow, then starts it and sees the backlog handled', async () => {
    await open('/')
    await panel('shipping').getByRole('button', { name: 'Stop' }).click()
    await field('shipping', 'state').filter({ hasText: 'stopped' }).waitFor()
    await page.getByRole('button', { name: 'Place 10' }).click()
    // Ten orders: OrderPlaced and OrderBilled each, twenty messages waiting.
    await field('shipping', 'queueLength').filter({ hasText: /^20$/ }).waitFor()
    expect(await field('shipping', 'handled').textContent()).toBe('0')
    await screenshot('shipping-stopped')
    await panel('shipping').getByRole('button', { name: 'Start' }).click()
    await field('shipping', 'handled').filter({ hasText: /^20$/ }).waitFor()
    expect(await field('shipping', 'queueLength').textContent()).toBe('0')
  })

  // Performs docs/workshop.md, exercise "Break a handler, watch retries and the error queue, fix it, retry".
  it('injects a fault in Sales, shows the failed orders after their retries, and retries them all to Shipping', async () => {
    await open('/')
    await panel('sales').getByRole('button', { name: 'Inject fault' }).click()
    await panel('sales').locator('[data-field="fault"]:not([hidden])').waitFor()
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Place order' }).click()
    await field('sales', 'errorQueueLength').filter({ hasText: /^3$/ }).waitFor()
    await panel('sales').getByRole('button', { name: 'Fix fault' }).click()
    await panel('sales').locator('[data-field="fault"][hidden]').waitFor({ state: 'attached' })

    await page.getByRole('link', { name: /Failed messages/ }).click()
    await page.getByRole('heading', { name: /InjectedFaultError/ }).waitFor()
    expect(await page.locator('.group .meta strong').first().textContent()).toBe('3')
    expect(await page.locator('.schedules').textContent()).toContain('1 immediate, then 50 ms; 4 attempts at most')
    await page.locator('details summary', { hasText: 'Details' }).first().click()
    await page.locator('.attempts li').first().waitFor()
    await screenshot('failed')

    await page.getByRole('button', { name: 'Retry all 3 shown' }).click()
    await page.locator('.flash', { hasText: 'Retried 3' }).waitFor()
    await page.locator('.empty', { hasText: 'No failed messages' }).waitFor()
    await page.getByRole('link', { name: 'Shop & modules' }).click()
    await page.locator('[data-orders] .tick.yes', { hasText: 'shipped' }).nth(2).waitFor()
    expect(running!.shop.bus.admin.module('shipping').handled).toBe(6)
  })

  // Performs docs/workshop.md, exercise "Publish an event".
  it('opens a conversation and shows its sequence diagram', async () => {
    await open('/')
    await page.getByRole('button', { name: 'Place order' }).click()
    await page.locator('[data-orders] .tick.yes', { hasText: 'shipped' }).first().waitFor()
    await page.getByRole('link', { name: 'conversation →' }).first().click()
    await page.locator('svg .step.handled').nth(3).waitFor()
    const lanes = await page.locator('svg .lane text').allTextContents()
    // The flow ends with OrderShipped, which no module takes: drawn to a lane of its own.
    expect(lanes).toEqual(['outside', 'sales', 'billing', 'shipping', '(no subscribers)'])
    expect(await page.locator('svg .step.published text').first().textContent()).toContain('OrderShipped')
    await screenshot('conversation')
  })

  it('shows live metrics on /monitoring', async () => {
    await open('/monitoring')
    const inject = () => running!.app.inject({ method: 'POST', url: '/api/orders/batch', headers: { 'content-type': 'application/json' }, payload: '{"count": 50}' })
    // The page joins the stream's broadcasts once its first snapshot is built: a burst sent before that
    // is over by then. Orders keep coming until a sample of them reaches the page (it does within one or two).
    const throughput = page.locator('[data-monitor="sales"] [data-metric="throughput"] [data-value]')
    await expect
      .poll(async () => {
        await inject()
        await page.waitForTimeout(300)
        return throughput.textContent()
      }, { timeout: 30_000 })
      .not.toBe('0.0')
    // A few more samples (every 250 ms here), so the sparklines have a shape worth a screenshot.
    for (let i = 0; i < 6; i++) {
      await inject()
      await page.waitForTimeout(250)
    }
    await screenshot('monitoring')
  })

  // Performs docs/workshop.md, exercise "A campaign spike and load levelling".
  it('takes a campaign of 1,000 orders from the UI to shipped, the gateway limit met by load levelling', { timeout: 90_000 }, async () => {
    // Scaled from the defaults (gateway 50/s, Billing 40/s) so the run takes seconds, not 25 s.
    await open('/', { gatewayLimitPerSecond: 250, billingMaxPerSecond: 200 })
    const queueSeen: number[] = []
    await page.getByRole('button', { name: /Campaign/ }).click()
    const bus = running!.shop.bus
    while (bus.admin.module('shipping').handled < 2_000) {
      queueSeen.push(Number(await field('billing', 'queueLength').textContent()))
      await page.waitForTimeout(250)
    }
    await field('billing', 'queueLength').filter({ hasText: /^0$/ }).waitFor()
    await screenshot('campaign')
    const billing = bus.admin.module('billing')
    expect(billing).toMatchObject({ handled: 1_000, retries: 0, failed: 0, errorQueueLength: 0 })
    expect(bus.admin.failedMessages()).toEqual([])
    // The console showed the queue rising and draining.
    expect(Math.max(...queueSeen)).toBeGreaterThan(300)
    // The gateway is the judge: it refuses any charge over 250 in a second, and it refused none.
  })
})