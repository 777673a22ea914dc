import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startScaledOutShop, type ScaledOutShop } from '../../scripts/chaos/scaled-out.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from '../postgres/support/postgres.js'
import { brokerAvailable, brokerUrl, deleteNamespace, testNamespace } from '../transport/support/broker.js'
import { artifactsDir, browserAvailable, launchBrowser } from './support/browser.js'

const available = browserAvailable() && (await brokerAvailable()) && (await postgresAvailable())
const namespace = testNamespace('scaled-browser')
const prefix = testPrefix('scb')
let browser: Browser
let shop: ScaledOutShop | undefined

beforeAll(async () => {
  if (available) browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await shop?.stop()
  if (!available) return
  const pool = new Pool({ connectionString: postgresUrl, max: 1 })
  await dropSchemas(pool, prefix)
  await pool.end()
  await deleteNamespace(namespace, ['sales', 'billing', 'shipping'])
})

const screenshot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, artifactsDir).pathname, fullPage: true })

describe.runIf(available)('the console of the shop scaled out on RabbitMQ and PostgreSQL, in a real browser', { timeout: 120_000 }, () => {
  // Performs docs/workshop.md, exercise "Scale out: two of Billing and two of Shipping, sharing PostgreSQL".
  it('shows both instances of Billing and of Shipping, and one order list read from PostgreSQL', async () => {
    shop = await startScaledOutShop({ brokerUrl, postgresUrl, namespace, prefix })
    const page = await browser.newPage({ viewport: { width: 1360, height: 1100 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    try {
      await page.goto(shop.webUrl)
      await page.locator('[data-live].on').waitFor()
      await page.getByRole('button', { name: 'Place 10' }).click()
      await page.getByRole('button', { name: 'Place 10' }).click()
      // Twenty orders over two instances each: both report, each with its share.
      for (const module of ['billing', 'shipping']) {
        await expect.poll(async () => page.locator(`[data-module="${module}"] [data-instances] li`).count(), { timeout: 30_000 }).toBe(2)
      }
      await page.locator('[data-module="shipping"] [data-field="handled"]', { hasText: /^40$/ }).waitFor({ timeout: 30_000 })
      await screenshot(page, 'scaled-out-console')

      // The order list is Sales' table in PostgreSQL: every order once, each billed and shipped.
      await page.goto(`${shop.webUrl}/orders`)
      const rows = page.locator('[data-all-orders] tr')
      await rows.nth(19).waitFor()
      const ids = await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-order')))
      expect(ids).toHaveLength(20)
      expect(new Set(ids).size).toBe(20)
      expect(await page.locator('[data-all-orders] .tick.yes', { hasText: 'billed' }).count()).toBe(20)
      expect(await page.locator('[data-all-orders] .tick.yes', { hasText: 'shipped' }).count()).toBe(20)
      await screenshot(page, 'scaled-out-orders')
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })
})
