import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { brokerAvailable } from '../transport/support/broker.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from '../postgres/support/postgres.js'
import { takeTurn } from '../support/take-turns.js'
import { startFourProcesses, stopFourProcesses } from '../transport/support/four-processes.js'
import { artifactsDir, browserAvailable, launchBrowser } from './support/browser.js'

const available = browserAvailable() && (await brokerAvailable())
const overPostgres = browserAvailable() && (await postgresAvailable())
const prefix = testPrefix('bfour')
let browser: Browser

beforeAll(async () => {
  if (available || overPostgres) browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  if (!overPostgres) return
  const pool = new Pool({ connectionString: postgresUrl, max: 1 })
  await dropSchemas(pool, prefix)
  await pool.end()
})
afterEach(stopFourProcesses)

describe('the console of the shop run as four processes, in a real browser', { timeout: 90_000 }, () => {
  // Performs docs/workshop.md, exercise "Extract a module: the same modules in four processes over RabbitMQ (or PostgreSQL)".
  it.runIf(available)('shows the three modules of the other processes live, with their logs, the broker and its connection', async () => {
    await performExercise(await startFourProcesses('browser'), /RabbitMQ at amqp:\/\/127\.0\.0\.1:5672\/?, connected/, 'four-processes')
  })

  it.runIf(overPostgres)('does the same over PostgreSQL alone (MAILROOM_TRANSPORT=postgres), the queues and the reports in the database', { timeout: 330_000 }, async () => {
    const env = { MAILROOM_TRANSPORT: 'postgres', MAILROOM_POSTGRES_URL: postgresUrl, MAILROOM_POSTGRES_PREFIX: prefix }
    // After any other whole shop on PostgreSQL has stopped: the server's connections are for one at a time.
    const release = await takeTurn('postgres-shops', 240_000)
    try {
      await performExercise(await startFourProcesses('browser-postgres', env), /PostgreSQL queues at postgres:\/\/127\.0\.0\.1:5432\/test, connected/, 'four-processes-postgres')
    } finally {
      await stopFourProcesses()
      await release()
    }
  })
})

/** The exercise, in the browser: every panel live from the other processes, ten orders through, Billing stopped from the console. */
async function performExercise({ processes }: Awaited<ReturnType<typeof startFourProcesses>>, transportLine: RegExp, screenshot: string): Promise<void> {
  {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
    await page.goto(processes.web!.url)
    await page.locator('[data-live].on').waitFor()
    await page.locator('[data-transport]', { hasText: transportLine }).waitFor()
    for (const name of ['sales', 'billing', 'shipping']) {
      await page.locator(`[data-module="${name}"] [data-field="where"]:not([hidden])`, { hasText: 'in another process' }).waitFor()
    }

    await page.getByRole('button', { name: 'Place 10' }).click()
    // Log lines written in three other processes, streamed through the broker to this page.
    await page.locator('[data-module="sales"] [data-log] li', { hasText: 'Received PlaceOrder' }).first().waitFor({ timeout: 15_000 })
    await page.locator('[data-module="billing"] [data-log] li', { hasText: 'charging credit card' }).first().waitFor({ timeout: 15_000 })
    await page.locator('[data-module="shipping"] [data-log] li', { hasText: 'Shipping order' }).first().waitFor({ timeout: 15_000 })
    await page.locator('[data-module="shipping"] [data-field="handled"]', { hasText: /^20$/ }).waitFor({ timeout: 15_000 })
    // Each process's own log (its terminal; JSON here, where stdout is a pipe) has what its module received.
    const received = (part: string) => processes[part]!.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { module?: string; msg?: string; messageId?: string })
    expect(received('billing').filter((line) => line.module === 'billing' && /^Received OrderPlaced, OrderId = ord-\w+ - charging credit card$/.test(line.msg ?? '') && line.messageId)).toHaveLength(10)
    expect(received('sales').some((line) => line.module === 'billing')).toBe(false)
    // The order states come from the modules' own views, reported by their processes.
    const firstOrder = page.locator('[data-orders] tr').first()
    await firstOrder.locator('.tick.yes', { hasText: 'shipped' }).waitFor({ timeout: 15_000 })
    const orderId = (await firstOrder.locator('code').textContent())!
    // Each module reports its own view in its own second: ask until all three have.
    await expect
      .poll(async () => (await (await fetch(`${processes.web!.url}/api/orders/${orderId}`)).json()) as unknown, { timeout: 10_000 })
      .toMatchObject({ sales: { placed: true }, billing: { billed: true }, shipping: { shipped: true } })

    // The conversation diagram, drawn in this process from what the three others reported.
    const conversation = page.locator('[data-orders] tr a', { hasText: 'conversation' }).first()
    const diagram = await browser.newPage({ viewport: { width: 1360, height: 900 } })
    await diagram.goto(new URL((await conversation.getAttribute('href'))!, processes.web!.url).toString())
    for (const type of ['PlaceOrder', 'OrderPlaced', 'OrderBilled']) await diagram.locator('svg text', { hasText: type }).first().waitFor({ timeout: 10_000 })
    await diagram.screenshot({ path: new URL(`${screenshot}-conversation.png`, artifactsDir).pathname, fullPage: true })
    await diagram.close()

    // Stop from the console: the command travels to Billing's process, its status comes back.
    await page.locator('[data-module="billing"]').getByRole('button', { name: 'Stop' }).click()
    await page.locator('[data-module="billing"] [data-field="state"]', { hasText: 'stopped' }).waitFor({ timeout: 10_000 })
    await page.screenshot({ path: new URL(`${screenshot}.png`, artifactsDir).pathname, fullPage: true })
    expect(errors).toEqual([])
    await page.close()
  }
}
