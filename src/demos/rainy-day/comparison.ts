import { startCampaign, type Campaign, type CampaignFigures } from './campaign.js'
import { startSyncChain, type SyncChain, type SyncChainOptions } from './sync-chain.js'

/** The services of the shop's flow a person can stop for a run: the chain's, and the shop's modules of the same names. */
export const services = ['sales', 'billing', 'shipping'] as const
export type Service = (typeof services)[number]

export const sideChoices = ['both', 'synchronous', 'messaging'] as const

export interface ComparisonSettings {
  orders: number
  /** Clients at once, on each side. */
  clients: number
  /** A service stopped on both sides for the campaign, started again once the last client has its answer. */
  stop: Service | null
  sides: (typeof sideChoices)[number]
}

/** One side's figures, all measured in the run. */
export interface SideFigures extends CampaignFigures {
  /** Orders shipped so far. */
  shipped: number
  /** Orders the payment gateway charged; null when it cannot be seen from here (Billing in another process). */
  charged: number | null
  /** Orders charged more than once. */
  chargedTwice: number | null
  /** Clients told their order failed whose card was charged anyway; null when it cannot be known. */
  failedButCharged: number | null
  /** Every answer is in and the side has nothing more to do (or the wait for it ran out). */
  settled: boolean
}

export interface ComparisonReport {
  id: number
  settings: ComparisonSettings
  state: 'running' | 'settling' | 'done'
  startedAt: string
  elapsedMs: number
  synchronous: SideFigures | null
  messaging: SideFigures | null
  /** What happened, in order, with the run's own figures. */
  events: { atMs: number; text: string }[]
}

/** The messaging shop as the comparison uses it: over HTTP like any client, and what its modules know. */
export interface MessagingShop {
  /** Where a client places an order: POST, JSON; a successful answer's body names the `orderId`. */
  ordersUrl(): string
  /** Whether the order was shipped, as Shipping knows it. */
  shipped(orderId: string): Promise<boolean>
  /** How often the payment gateway charged the order (0: not yet); undefined when Billing is not in this process. */
  timesCharged(orderId: string): number | undefined
  isRunning(service: Service): boolean
  setStopped(service: Service, stopped: boolean): void
}

export interface ComparisonOptions {
  chain?: SyncChainOptions
  /** How long, after the campaign, the messaging side may take to ship what it accepted. @default 120 s */
  settleMs?: number
  /** How often the messaging side's orders are looked up while they ship. @default 500 */
  pollMs?: number
}

export interface Comparison {
  readonly running: boolean
  /** Starts a run; the caller checks `running` first (one run at a time). */
  start(settings: ComparisonSettings): ComparisonReport
  latest(): ComparisonReport | undefined
  /** Stops sending, ends the current run. */
  close(): Promise<void>
}

const capitalised = (service: Service) => service[0]!.toUpperCase() + service.slice(1)
/** Waits `ms`, or until `signal` aborts; leaves no listener behind either way. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })

/**
 * The talk's rainy day, side by side: the same campaign of orders against the shop's flow as a chain of
 * synchronous HTTP calls (started for the run, on loopback) and against the messaging shop (through its
 * own HTTP API), at once. Every figure is measured: what each client saw, what shipped, what the payment
 * gateways charged.
 */
export function createComparison(shop: MessagingShop, options: ComparisonOptions = {}): Comparison {
  const settleMs = options.settleMs ?? 120_000
  const pollMs = options.pollMs ?? 500
  let current: { report: () => ComparisonReport; done: Promise<void>; abort: AbortController } | undefined
  let runs = 0
  let running = false

  function start(settings: ComparisonSettings): ComparisonReport {
    if (running) throw new Error('a comparison is already running')
    running = true
    const id = ++runs
    const abort = new AbortController()
    const started = Date.now()
    const events: ComparisonReport['events'] = []
    const event = (text: string) => events.push({ atMs: Date.now() - started, text })
    let state: ComparisonReport['state'] = 'running'
    let ended: number | undefined
    const runSync = settings.sides !== 'messaging'
    const runMessaging = settings.sides !== 'synchronous'

    // The synchronous side: its own chain, so its gateway's counts are this run's.
    let chain: SyncChain | undefined
    let chainClosed: Promise<void> | undefined
    const closeChain = () => (chainClosed ??= chain?.close() ?? Promise.resolve())
    let syncCampaign: Campaign | undefined
    let syncSettled = false
    const syncFailed = new Set<string>()
    const syncOrderId = (n: number) => `rd${id}-${n}`

    // The messaging side: the shop itself; its orders are the ones its API accepted in this run.
    let messagingCampaign: Campaign | undefined
    let messagingSettled = false
    const accepted: string[] = []
    const shipped = new Set<string>()

    const syncFigures = (): SideFigures | null => {
      if (!runSync) return null
      const campaign = syncCampaign?.figures() ?? { orders: settings.orders, answered: 0, accepted: 0, failed: 0, p50Ms: 0, p99Ms: 0 }
      const counts = [...(chain?.charges.values() ?? [])]
      return {
        ...campaign,
        shipped: chain?.shipped.size ?? 0,
        charged: counts.length,
        chargedTwice: counts.filter((times) => times > 1).length,
        failedButCharged: [...syncFailed].filter((orderId) => chain?.charges.has(orderId)).length,
        settled: syncSettled,
      }
    }
    const messagingFigures = (): SideFigures | null => {
      if (!runMessaging) return null
      const campaign = messagingCampaign?.figures() ?? { orders: settings.orders, answered: 0, accepted: 0, failed: 0, p50Ms: 0, p99Ms: 0 }
      const times = accepted.map((orderId) => shop.timesCharged(orderId))
      const seen = times.every((count) => count !== undefined)
      return {
        ...campaign,
        shipped: shipped.size,
        charged: seen ? times.filter((count) => count! > 0).length : null,
        chargedTwice: seen ? times.filter((count) => count! > 1).length : null,
        // A failed answer names no order: with none failed, none can have been charged.
        failedButCharged: campaign.failed === 0 ? 0 : null,
        settled: messagingSettled,
      }
    }
    const report = (): ComparisonReport => ({
      id,
      settings,
      state,
      startedAt: new Date(started).toISOString(),
      elapsedMs: (ended ?? Date.now()) - started,
      synchronous: syncFigures(),
      messaging: messagingFigures(),
      events: [...events],
    })

    /** Looks up the accepted orders not shipped yet, a few at a time, until all are or the wait runs out. */
    async function followShipping(campaignDone: Promise<unknown>): Promise<void> {
      let campaignOver = false
      let deadline = Infinity
      void campaignDone.then(() => {
        campaignOver = true
        deadline = Date.now() + settleMs
      })
      while (!abort.signal.aborted) {
        const waiting = accepted.filter((orderId) => !shipped.has(orderId))
        for (let i = 0; i < waiting.length; i += 50) {
          const batch = waiting.slice(i, i + 50)
          const answers = await Promise.all(batch.map((orderId) => shop.shipped(orderId).catch(() => false)))
          batch.forEach((orderId, k) => answers[k] && shipped.add(orderId))
        }
        if (campaignOver && shipped.size === accepted.length) {
          event(`Messaging: every accepted order shipped (${shipped.size})`)
          return
        }
        if (Date.now() > deadline) {
          event(`Messaging: ${accepted.length - shipped.size} accepted orders not shipped after ${settleMs / 1000} s (is a module stopped?)`)
          return
        }
        await sleep(pollMs, abort.signal)
      }
    }

    async function settleChain(): Promise<void> {
      // The gateway finishes the charges it started after their callers gave up: those count too.
      for (let waited = 0; chain && chain.gatewayInFlight > 0 && waited < 5_000 && !abort.signal.aborted; waited += 50) await sleep(50, abort.signal)
      await closeChain()
      syncSettled = true
      const figures = syncFigures()!
      event(`Synchronous chain: ${figures.failed} clients told their order failed, ${figures.failedButCharged} of them charged anyway; ${figures.chargedTwice} charged twice; ${figures.shipped} shipped`)
    }

    async function run(): Promise<void> {
      try {
        if (runSync) chain = await startSyncChain(options.chain)
        if (settings.stop) chain?.setStopped(settings.stop, true)
        event(`Campaign: ${settings.orders} orders, ${settings.clients} clients at once${runSync && runMessaging ? ' on each side' : ''}`)
        const common = { orders: settings.orders, concurrency: settings.clients, signal: abort.signal }
        if (chain) {
          syncCampaign = startCampaign(`${chain.url}/sales/orders`, (n) => ({ orderId: syncOrderId(n) }), { ...common, onFailed: (n) => syncFailed.add(syncOrderId(n)) })
        }
        if (runMessaging) {
          messagingCampaign = startCampaign(shop.ordersUrl(), () => ({ items: ['Umbrella (rainy-day campaign)'] }), {
            ...common,
            onAccepted: (_n, answer) => {
              const orderId = (answer as { orderId?: unknown }).orderId
              if (typeof orderId === 'string') accepted.push(orderId)
            },
          })
        }
        const campaigns = Promise.all([syncCampaign?.finished, messagingCampaign?.finished])
        const shipping = runMessaging ? followShipping(campaigns) : Promise.resolve()
        await campaigns
        event('Every client has its answer')
        if (settings.stop) {
          chain?.setStopped(settings.stop, false)
          startAgain()
          event(`${capitalised(settings.stop)} started again`)
        }
        state = 'settling'
        await Promise.all([
          runSync ? settleChain() : undefined,
          shipping.then(() => (messagingSettled = true)),
        ])
      } catch (error) {
        event(`The run stopped: ${error instanceof Error ? error.message : String(error)}`)
      } finally {
        startAgain()
        await closeChain().catch(() => undefined)
        syncSettled = true
        messagingSettled = true
        state = 'done'
        ended = Date.now()
        running = false
      }
    }

    // Stopped before the answer to whoever started the run: what it reads next already shows it. Only a
    // module this run stopped is started again: one a person had stopped stays as they left it.
    let stoppedHere = false
    const startAgain = () => {
      if (!stoppedHere || !settings.stop) return
      stoppedHere = false
      shop.setStopped(settings.stop, false)
    }
    if (settings.stop) {
      if (runMessaging && shop.isRunning(settings.stop)) {
        shop.setStopped(settings.stop, true)
        stoppedHere = true
      }
      event(`${capitalised(settings.stop)} stopped${runSync && runMessaging ? ' on both sides' : ''}`)
    }
    current = { report, done: run(), abort }
    return report()
  }

  return {
    get running() {
      return running
    },
    start,
    latest: () => current?.report(),
    async close() {
      current?.abort.abort()
      await current?.done
    },
  }
}
