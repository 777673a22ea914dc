import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { startConsole } from '../web/support/console-app.js'
import { artifactsDir, browserAvailable, launchBrowser } from './support/browser.js'

// Performs docs/workshop.md, exercise "The rainy day: a chain of synchronous calls beside messaging".

const available = browserAvailable()
let page: Page

/** The figure a cell of the comparison shows, as a number (`—` and empty are NaN). */
async function figure(side: 'synchronous' | 'messaging', key: string): Promise<number> {
  const text = (await page.locator(`td[data-side="${side}"][data-figure="${key}"]`).textContent())!.trim()
  return Number.parseFloat(text)
}

async function figures(side: 'synchronous' | 'messaging') {
  const keys = ['accepted', 'failed', 'p50Ms', 'p99Ms', 'shipped', 'charged', 'chargedTwice', 'failedButCharged'] as const
  return Object.fromEntries(await Promise.all(keys.map(async (key) => [key, await figure(side, key)] as const))) as Record<(typeof keys)[number], number>
}

const screenshot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, artifactsDir).pathname, fullPage: true })

describe.runIf(available)('the rainy day in a real browser: the same campaign against the synchronous chain and the messaging shop', { timeout: 90_000 }, () => {
  it("runs the page's campaign on both sides: the chain fails clients and charges twice, messaging accepts and ships every order once", async () => {
    // The shop as npm start runs it (a gateway of 50 charges a second, Billing paced at 40), without the buyer's-remorse wait.
    const running = await startConsole({ listen: true, gatewayLimitPerSecond: 50, billingMaxPerSecond: 40, recoverability: { immediateRetries: 3, delayedRetries: { count: 3, baseDelayMs: 200 } } })
    const browser = await launchBrowser()
    try {
      page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
      await page.goto(`${running.url}/`)
      await page.getByRole('link', { name: 'Rainy day' }).click()
      await page.getByText('No run yet').waitFor()

      // 1. As the workshop says: leave the campaign as it is and run it.
      expect(await page.locator('input[name="orders"]').inputValue()).toBe('200')
      await page.getByRole('button', { name: 'Run the campaign' }).click()
      // Live: the figures move while the run goes on, before it is done.
      await page.locator('[data-rainy-state]', { hasText: /running|settling/ }).waitFor()
      await page.locator('td[data-side="messaging"][data-figure="answered"]', { hasText: '200 / 200' }).waitFor()
      await screenshot('rainy-day-running')
      await page.locator('[data-rainy-state]', { hasText: 'Run 1: done' }).waitFor({ timeout: 60_000 })
      await screenshot('rainy-day')
      const chain = await figures('synchronous')
      const messaging = await figures('messaging')
      // 2. The talk's direction, in counts (times are shown, not asserted).
      expect(chain.failed).toBeGreaterThan(0)
      expect(chain.shipped).toBeLessThan(200)
      expect(chain.chargedTwice + chain.failedButCharged).toBeGreaterThan(0)
      expect(messaging).toMatchObject({ accepted: 200, failed: 0, shipped: 200, charged: 200, chargedTwice: 0, failedButCharged: 0 })
      for (const side of ['synchronous', 'messaging'] as const) await expect.poll(() => page.locator(`td[data-side="${side}"][data-figure="p99Ms"]`).textContent()).toMatch(/^\d+ ms$/)
      expect(await page.locator('td[data-side="synchronous"][data-figure="failed"]').getAttribute('class')).toBe('bad')
      expect(await page.locator('td[data-side="messaging"][data-figure="chargedTwice"]').getAttribute('class')).toBe('good')
      await page.locator('[data-rainy-events] li', { hasText: 'Messaging: every accepted order shipped (200)' }).waitFor()
      // The messaging side's orders are the shop's own: they are on the Orders page.
      expect((await running.shop.orders({ limit: 200 }))!.items.filter((order) => order.shipped)).toHaveLength(200)

      // 3. The same campaign with Shipping stopped for it.
      await page.locator('select[name="stop"]').selectOption('shipping')
      await page.getByRole('button', { name: 'Run the campaign' }).click()
      await page.locator('[data-rainy-events] li', { hasText: 'Shipping stopped on both sides' }).waitFor()
      await page.locator('[data-rainy-state]', { hasText: 'Run 2: done' }).waitFor({ timeout: 60_000 })
      await screenshot('rainy-day-shipping-stopped')
      const stoppedChain = await figures('synchronous')
      const stoppedMessaging = await figures('messaging')
      expect(stoppedChain).toMatchObject({ accepted: 0, failed: 200, shipped: 0 })
      // Every order the gateway charged was refused to its client: Shipping was down.
      expect(stoppedChain.failedButCharged).toBe(stoppedChain.charged)
      expect(stoppedChain.charged).toBeGreaterThan(0)
      expect(stoppedMessaging).toMatchObject({ accepted: 200, failed: 0, shipped: 200, charged: 200, chargedTwice: 0 })
      await page.locator('[data-rainy-events] li', { hasText: 'Shipping started again' }).waitFor()
      expect(running.shop.bus.admin.module('shipping').running).toBe(true)
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      await running.close()
    }
  })
})
