import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startApp, type AppProcess } from './app-process.js'
import { delayedRounds, errorQueue, shippedCounts, type FailedEntry } from './reconcile.js'
import { checkWhatPeopleSee, type WhatPeopleSee } from './what-people-see.js'

export interface ChaosOptions {
  orders: number
  kills: number
  /** Orders placed per second, over HTTP from this process. */
  ratePerSecond: number
  /** Share of handler attempts that fail on purpose while orders come in. */
  faultRate: number
  /** Give up waiting for the last orders to ship after this long. */
  drainTimeoutMs: number
  /** `even`: kills spread evenly over the orders; `random`: at random points of the run. @default 'even' */
  killsAt?: 'even' | 'random'
  log?: (line: string) => void
}

export interface ChaosSummary {
  accepted: number
  /** Refused while the app was down or restarting (never acknowledged, so never owed). */
  refused: number
  shipped: number
  /** Shipped, though the client never got the 202 (the app was killed mid-answer): allowed, at most once. */
  shippedUnacknowledged: number
  missing: string[]
  doubled: string[]
  failed: FailedEntry[]
  delayedRetryRounds: number
  moduleRestarts: number
  kills: number
  /** After one more restart, through the HTTP API: the order list, each order, its conversation, its charge. */
  seen: WhatPeopleSee
  durationMs: number
  ok: boolean
}

const modules = ['sales', 'billing', 'shipping'] as const
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
}

/**
 * The whole shop under load and faults: the app runs as a child process; this process places orders
 * over HTTP at a steady rate while handler attempts fail at random, modules stop and start, and the app
 * is SIGKILLed and restarted. Then it reconciles from the journals: every order acknowledged with 202 is
 * shipped exactly once, or sits in the error queue with its reason.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const log = options.log ?? (() => {})
  const started = performance.now()
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-chaos-'))
  const port = await freePort()
  const env = {
    MAILROOM_BUYERS_REMORSE_MS: '0',
    MAILROOM_BILLING_WAIT_MS: '600000',
    MAILROOM_GATEWAY_LIMIT: 'off',
    MAILROOM_BILLING_RATE: 'off',
    MAILROOM_RETRY_BASE_MS: '200',
    MAILROOM_COMPACTION: 'off',
  }
  let app: AppProcess = await startApp({ port, dataDir, env })
  let up = true
  const applyFaults = async (rate: number) => {
    for (const module of modules) await postJson(`${app.url}/api/modules/${module}/fault-rate`, { rate }).catch(() => undefined)
  }
  await applyFaults(options.faultRate)

  const accepted = new Set<string>()
  let refused = 0
  let kills = 0
  let moduleRestarts = 0
  const inFlight = new Set<Promise<void>>()
  const placeOne = async () => {
    try {
      const response = await postJson(`${app.url}/api/orders`, { items: ['chaos'] })
      if (response.status === 202) accepted.add(((await response.json()) as { orderId: string }).orderId)
      else refused++
    } catch {
      refused++
    }
  }

  const killAt = new Set(
    Array.from({ length: options.kills }, (_, i) =>
      options.killsAt === 'random' ? Math.floor(Math.random() * options.orders) : Math.floor(((i + 1) * options.orders) / (options.kills + 1)),
    ),
  )
  const tickMs = 20
  const perTick = Math.max(1, Math.round((options.ratePerSecond * tickMs) / 1000))
  let nextModuleFault = performance.now() + 500
  for (let placed = 0; placed < options.orders; ) {
    const tickStart = performance.now()
    for (let i = 0; i < perTick && placed < options.orders; i++, placed++) {
      const request = placeOne()
      inFlight.add(request)
      void request.then(() => inFlight.delete(request))
      if (killAt.has(placed)) {
        // Kill in the middle of the traffic: this tick's requests are in flight, and may or may not have
        // been committed when the process dies.
        const pending = inFlight.size
        await app.kill()
        up = false
        kills++
        log(`kill ${kills}: SIGKILL with ${pending} requests in flight, ${accepted.size} orders accepted so far`)
        await Promise.allSettled([...inFlight])
        app = await startApp({ port, dataDir, env })
        up = true
        await applyFaults(options.faultRate)
      }
    }
    if (up && performance.now() >= nextModuleFault) {
      const module = modules[Math.floor(Math.random() * modules.length)]!
      await postJson(`${app.url}/api/modules/${module}/stop`, {}).catch(() => undefined)
      await sleep(100 + Math.random() * 300)
      await postJson(`${app.url}/api/modules/${module}/start`, {}).catch(() => undefined)
      moduleRestarts++
      nextModuleFault = performance.now() + 500 + Math.random() * 1_000
    }
    await sleep(Math.max(0, tickMs - (performance.now() - tickStart)))
  }
  await Promise.allSettled([...inFlight])
  await applyFaults(0)
  log(`all ${options.orders} orders placed (${accepted.size} accepted, ${refused} refused); waiting for them to ship`)

  const giveUpAt = performance.now() + options.drainTimeoutMs
  for (;;) {
    const shipped = shippedCounts(dataDir)
    const owed = [...accepted].filter((orderId) => !shipped.has(orderId))
    if (owed.length === 0 || performance.now() > giveUpAt) break
    if (owed.length === errorQueue(dataDir, modules).length) break
    await sleep(250)
  }
  await app.stop()
  if (app.errors()) log(`the app's standard error:\n${app.errors().slice(-4_000)}`)

  const shipped = shippedCounts(dataDir)
  const failed = errorQueue(dataDir, modules)
  const failedOrders = new Set(failed.map((entry) => entry.orderId))
  // One more start, then look as a person would: everything shipped is listed, in its state, with its
  // whole conversation, and charged once.
  app = await startApp({ port, dataDir, env })
  const seen = await checkWhatPeopleSee(app.url, [...shipped.keys()].filter((orderId) => !failedOrders.has(orderId)))
  await app.stop()
  const summary: ChaosSummary = {
    accepted: accepted.size,
    refused,
    shipped: [...shipped.keys()].filter((orderId) => accepted.has(orderId)).length,
    shippedUnacknowledged: [...shipped.keys()].filter((orderId) => !accepted.has(orderId)).length,
    missing: [...accepted].filter((orderId) => !shipped.has(orderId) && !failedOrders.has(orderId)),
    doubled: [...shipped].filter(([, count]) => count > 1).map(([orderId]) => orderId),
    failed,
    delayedRetryRounds: delayedRounds(dataDir, modules),
    moduleRestarts,
    kills,
    seen,
    durationMs: performance.now() - started,
    ok: false,
  }
  summary.ok =
    summary.missing.length === 0 &&
    summary.doubled.length === 0 &&
    summary.kills === options.kills &&
    seen.unlisted.length === 0 &&
    seen.wrongState.length === 0 &&
    seen.incompleteConversations.length === 0 &&
    seen.gateway.chargedTwice === 0 &&
    seen.gateway.charged === seen.billed
  if (summary.ok) rmSync(dataDir, { recursive: true, force: true })
  else log(`journals kept for inspection in ${dataDir}`)
  return summary
}
