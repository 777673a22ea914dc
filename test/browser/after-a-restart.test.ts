import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startApp } from '../../scripts/chaos/app-process.js'
import { artifactsDir, browserAvailable, launchBrowser } from './support/browser.js'

const available = browserAvailable()
let browser: Browser

beforeAll(async () => {
  if (available) browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

async function orderIdsIn(page: Page, rows: string): Promise<string[]> {
  const ids: string[] = []
  for (const row of await page.locator(rows).all()) ids.push((await row.getAttribute('data-order')) ?? '')
  return ids
}

const screenshot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, artifactsDir).pathname, fullPage: true })

/** The workshop's restart exercise as a person does it: `npm start`, place orders, `kill -9`, `npm start` again. */
describe.runIf(available)('the console after the app was killed and started again', { timeout: 90_000 }, () => {
  // Performs docs/workshop.md, exercise "Kill it: what a restart keeps, and nobody is charged twice".
  it('still lists every order, billed and shipped, draws each conversation, and shows nobody charged twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-restart-'))
    const port = await freePort()
    const env = { MAILROOM_BUYERS_REMORSE_MS: '0' }
    let app = await startApp({ port, dataDir, env })
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
    try {
      await page.goto(`${app.url}/`)
      await page.locator('[data-live].on').waitFor()
      await page.getByRole('button', { name: 'Place 10' }).click()
      await page.locator('[data-orders] tr .tick.yes', { hasText: 'shipped' }).nth(9).waitFor({ timeout: 30_000 })
      await page.locator('[data-gateway-field="charged"]', { hasText: /^10$/ }).waitFor()
      const orderIds = await orderIdsIn(page, '[data-orders] tr')
      expect(orderIds).toHaveLength(10)

      // kill -9, then npm start on the same data directory.
      await app.kill()
      app = await startApp({ port, dataDir, env })

      await page.goto(`${app.url}/orders`)
      const rows = page.locator('[data-all-orders] tr')
      await rows.first().waitFor()
      expect(await orderIdsIn(page, '[data-all-orders] tr')).toEqual(orderIds)
      expect(await page.locator('[data-all-orders] .tick.yes', { hasText: 'shipped' }).count()).toBe(10)
      expect(await page.locator('[data-all-orders] .tick.yes', { hasText: 'billed' }).count()).toBe(10)
      await screenshot(page, 'orders-after-restart')

      await page.locator(`[data-order="${orderIds[0]}"] a`, { hasText: 'conversation' }).click()
      await page.locator('svg .step.handled').first().waitFor()
      const labels = await page.locator('svg .step text').allTextContents()
      for (const step of ['PlaceOrder', 'OrderPlaced', 'OrderBilled']) expect(labels.some((label) => label.includes(step))).toBe(true)
      await screenshot(page, 'conversation-after-restart')

      await page.goto(`${app.url}/`)
      await page.locator('[data-live].on').waitFor()
      expect(await page.locator('[data-gateway]').textContent()).toMatch(/10\s+charged[\s\S]*charged twice:\s*0/)
      expect(await page.locator('[data-orders] tr').count()).toBe(10)
      await screenshot(page, 'shop-after-restart')
    } finally {
      await page.close()
      await app.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  // Performs docs/workshop.md, exercise "Kill it" (its last step: the backlog a restart found, worked off in front of you).
  it("shows the backlog a restart found in Billing's panel, counting down until it is worked off", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-backlog-'))
    const port = await freePort()
    // Billing at 4 messages a second: 40 orders make a backlog that takes ten seconds to work off.
    const env = { MAILROOM_BUYERS_REMORSE_MS: '0', MAILROOM_BILLING_RATE: '4' }
    let app = await startApp({ port, dataDir, env })
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
    try {
      const placed = await fetch(`${app.url}/api/orders/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 40 }) })
      expect(placed.status).toBe(202)
      // Sales announces them at once; Billing is left with a queue, then the process dies.
      await expect
        .poll(async () => ((await (await fetch(`${app.url}/api/modules`)).json()) as { name: string; queueLength: number }[]).find((module) => module.name === 'billing')!.queueLength, { timeout: 10_000 })
        .toBeGreaterThan(30)
      await app.kill()
      app = await startApp({ port, dataDir, env })

      await page.goto(`${app.url}/`)
      await page.locator('[data-live].on').waitFor()
      const pace = page.locator('[data-module="billing"] [data-pace]')
      await pace.getByText(/Backlog since start: \d+ of \d+ left · queue clears in about \d+ s at [\d.]+\/s/).waitFor({ timeout: 10_000 })
      const total = Number(/of (\d+) left/.exec((await pace.textContent()) ?? '')![1])
      expect(total).toBeGreaterThan(20)
      expect(await pace.locator('progress').count()).toBe(1)
      await screenshot(page, 'backlog-after-restart')
      await pace.getByText(`Backlog since start: ${total} worked off in`).waitFor({ timeout: 30_000 })
      await screenshot(page, 'backlog-worked-off')
    } finally {
      await page.close()
      await app.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
