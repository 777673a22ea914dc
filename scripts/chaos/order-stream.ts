import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ModuleStatus } from '../../src/bus/index.js'
import { freePort, startApp, type AppProcess } from './app-process.js'
import { shippedCounts } from './reconcile.js'

/**
 * Orders streamed at the shop as a new user would: `npm start`'s entry point with the shop's own settings
 * (buyer's-remorse window, audit, Billing's pace of 40/s, the gateway's limit), clients POSTing to
 * /api/orders as fast as answers come, the process SIGKILLed mid-stream and started again on the same data
 * directory; then everything read back through the HTTP API until every accepted order shows shipped.
 */
export interface OrderStreamOptions {
  /** Orders to have accepted (202) in all. */
  orders: number
  /** SIGKILLs, spread evenly over the stream. */
  kills: number
  /** Clients each POSTing one order after another. @default 8 */
  clients?: number
  /** Settings beside the shop's own (e.g. a shorter buyer's-remorse window for a bounded test). */
  env?: Record<string, string>
  /** Give up waiting for the last orders to ship after this long. */
  settleTimeoutMs: number
  log?: (line: string) => void
}

export interface OrderStreamSummary {
  accepted: number
  /** Answered other than 202, or not at all, while the shop was down or starting: never acknowledged, so never owed. */
  refused: number
  kills: number
  /** Accepted orders that GET /api/orders/:id does not show shipped once the shop settled (and after one more restart). */
  notShipped: string[]
  /** Orders Shipping shipped more than once (its journal). */
  shippedTwice: string[]
  /** The gateway through GET /api/gateway after that restart. */
  gateway: { charged: number; duplicates: number; chargedTwice: number }
  /** Orders the list shows billed after that restart: the gateway charged exactly these. */
  billed: number
  /** Per restart, the backlog each module showed (GET /api/modules) right after it: what a person sees waiting. */
  backlogsSeen: Record<string, NonNullable<ModuleStatus['backlog']>>[]
  /** From the last order accepted until every accepted order showed shipped. */
  settleMs: number
  durationMs: number
  ok: boolean
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

/** Which of `orderIds` GET /api/orders/:id shows shipped, 16 requests at a time. */
async function shippedOf(url: string, orderIds: readonly string[]): Promise<Set<string>> {
  const shipped = new Set<string>()
  const queue = [...orderIds]
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let orderId = queue.pop(); orderId !== undefined; orderId = queue.pop()) {
        const response = await fetch(`${url}/api/orders/${orderId}`, { signal: AbortSignal.timeout(10_000) })
        const order = response.ok ? ((await response.json()) as { shipping?: { shipped?: boolean } }) : (await response.text(), undefined)
        if (order?.shipping?.shipped === true) shipped.add(orderId)
      }
    }),
  )
  return shipped
}

/** Orders the list shows billed (every page of GET /api/orders). */
async function billedCount(url: string): Promise<number> {
  let billed = 0
  let cursor: string | undefined
  do {
    const page = await getJson<{ items: { billed: boolean }[]; next?: string }>(`${url}/api/orders?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
    billed += page.items.filter((order) => order.billed).length
    cursor = page.next
  } while (cursor)
  return billed
}

export async function runOrderStream(options: OrderStreamOptions): Promise<OrderStreamSummary> {
  const log = options.log ?? (() => {})
  const started = performance.now()
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-stream-'))
  const port = await freePort()
  const env = options.env ?? {}
  let app: AppProcess = await startApp({ port, dataDir, env })
  let up = true
  const accepted: string[] = []
  let refused = 0
  let kills = 0
  const backlogsSeen: OrderStreamSummary['backlogsSeen'] = []
  const killAt = Array.from({ length: options.kills }, (_, i) => Math.floor(((i + 1) * options.orders) / (options.kills + 1)))
  let restarting: Promise<void> | undefined

  /** SIGKILL mid-stream (the other clients' requests are in flight), then `npm start` again on the same data. */
  async function killAndRestart(): Promise<void> {
    up = false
    await app.kill()
    kills++
    log(`kill ${kills}: SIGKILL with ${accepted.length} orders accepted`)
    app = await startApp({ port, dataDir, env })
    const modules = await getJson<ModuleStatus[]>(`${app.url}/api/modules`)
    backlogsSeen.push(Object.fromEntries(modules.flatMap((module) => (module.backlog ? [[module.name, module.backlog]] : []))))
    log(`  started again: ${modules.map((module) => `${module.name} found ${module.backlog?.total ?? 0} waiting, ${module.delayed} delayed`).join('; ')}`)
    up = true
  }

  async function client(): Promise<void> {
    while (accepted.length < options.orders) {
      if (!up) {
        await restarting
        continue
      }
      try {
        const response = await fetch(`${app.url}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: ['book'] }),
          signal: AbortSignal.timeout(10_000),
        })
        if (response.status === 202) accepted.push(((await response.json()) as { orderId: string }).orderId)
        else (refused++, await response.text())
      } catch {
        refused++
      }
      if (up && killAt.length > 0 && accepted.length >= killAt[0]!) {
        killAt.shift()
        restarting = killAndRestart()
        await restarting
      }
    }
  }
  await Promise.all(Array.from({ length: options.clients ?? 8 }, client))
  const streamed = performance.now()
  log(`${accepted.length} orders accepted, ${refused} refused, in ${((streamed - started) / 1000).toFixed(1)} s; waiting for them to ship`)

  // Through the HTTP API, as a person would: every accepted order, until each shows shipped.
  let waiting = [...accepted]
  const giveUpAt = streamed + options.settleTimeoutMs
  for (;;) {
    const shipped = await shippedOf(app.url, waiting)
    waiting = waiting.filter((orderId) => !shipped.has(orderId))
    if (waiting.length === 0 || performance.now() > giveUpAt) break
    const billing = (await getJson<ModuleStatus[]>(`${app.url}/api/modules`)).find((module) => module.name === 'billing')
    log(`  ${waiting.length} not shipped yet; Billing: ${billing?.queueLength ?? '?'} queued at ${billing?.perSecond.toFixed(0) ?? '?'}/s`)
    await sleep(2_000)
  }
  const settleMs = performance.now() - streamed

  // One more start, then look again: still shipped, charged once.
  await app.stop()
  app = await startApp({ port, dataDir, env })
  const shippedAfterRestart = await shippedOf(app.url, accepted)
  const notShipped = accepted.filter((orderId) => !shippedAfterRestart.has(orderId))
  const gateway = await getJson<OrderStreamSummary['gateway']>(`${app.url}/api/gateway`)
  const billed = await billedCount(app.url)
  await app.stop()
  const shippedTwice = [...shippedCounts(dataDir)].filter(([, count]) => count > 1).map(([orderId]) => orderId)
  const summary: OrderStreamSummary = {
    accepted: accepted.length,
    refused,
    kills,
    notShipped,
    shippedTwice,
    gateway,
    billed,
    backlogsSeen,
    settleMs,
    durationMs: performance.now() - started,
    ok: false,
  }
  summary.ok = notShipped.length === 0 && shippedTwice.length === 0 && kills === options.kills && gateway.chargedTwice === 0 && gateway.charged === billed
  if (summary.ok) rmSync(dataDir, { recursive: true, force: true })
  else log(`journals kept for inspection in ${dataDir}`)
  return summary
}
