import { Type } from '@sinclair/typebox'
import { createBus, type Bus } from '../create-bus.js'
import { defineModule } from '../define-module.js'
import { handle } from '../endpoint/handle.js'
import { defineCommand, defineEvent } from '../messages/define-message.js'
import { createMemoryFileSystem } from '../files/memory-file-system.js'
import type { FileSystem } from '../files/file-system.js'
import type { TransportCheck, TransportConformanceOptions } from './transport-check.js'
import { waitUntil } from './wait-until.js'
import { transportScenarios } from './transport-scenarios.js'

export type { TransportCheck, TransportConformanceOptions } from './transport-check.js'

/** The basic checks: one small shop, the same for each (see transport-check.ts for how a transport's tests run them). */
const PlaceOrder = defineCommand('ConformancePlaceOrder', Type.Object({ n: Type.Integer() }))
const ChargeCard = defineCommand('ConformanceChargeCard', Type.Object({ n: Type.Integer() }))
const OrderPlaced = defineEvent('ConformanceOrderPlaced', Type.Object({ n: Type.Integer() }))
const Remind = defineCommand('ConformanceRemind', Type.Object({ n: Type.Integer(), dueAt: Type.Number() }))
const ScheduleReminder = defineCommand('ConformanceScheduleReminder', Type.Object({ n: Type.Integer(), delayMs: Type.Integer() }))

interface Shop {
  buses: Bus[]
  /** The bus to send from (the one running `orders`). */
  front: Bus
  /** Per handler, the `n` of every message it handled, in order. */
  seen: Record<'orders' | 'charged' | 'placedAtOrders' | 'placedAtPayments' | 'reminded' | 'flaky', number[]>
  /** Attempts of the flaky handler, by n. */
  attempts: Map<number, number>
  remindedEarly: number[]
  stop(): Promise<void>
}

/**
 * orders: PlaceOrder → sends ChargeCard, publishes OrderPlaced (subscribed by both modules); Remind is
 * deferred to itself. payments: ChargeCard fails its first attempt for odd n, then succeeds.
 */
async function startShop(options: TransportConformanceOptions, check: string, fileSystems: FileSystem[] = []): Promise<Shop> {
  const seen: Shop['seen'] = { orders: [], charged: [], placedAtOrders: [], placedAtPayments: [], reminded: [], flaky: [] }
  const attempts = new Map<number, number>()
  const remindedEarly: number[] = []
  const recoverability = { immediateRetries: 0, delayedRetries: { count: 2, baseDelayMs: 100 } }
  const orders = defineModule({
    name: 'orders',
    recoverability,
    handlers: [
      handle(PlaceOrder, async ({ n }, context) => {
        seen.orders.push(n)
        await context.send(ChargeCard, { n })
        await context.publish(OrderPlaced, { n })
      }),
      handle(OrderPlaced, async ({ n }) => void seen.placedAtOrders.push(n)),
      handle(ScheduleReminder, async ({ n, delayMs }, context) => {
        await context.defer(delayMs, Remind, { n, dueAt: Date.now() + delayMs })
      }),
      handle(Remind, async ({ n, dueAt }) => {
        if (Date.now() < dueAt) remindedEarly.push(n)
        seen.reminded.push(n)
      }),
    ],
  })
  const payments = defineModule({
    name: 'payments',
    recoverability,
    handlers: [
      handle(ChargeCard, async ({ n }) => {
        const attempt = (attempts.get(n) ?? 0) + 1
        attempts.set(n, attempt)
        if (n % 2 === 1 && attempt === 1) throw new Error(`card ${n} declined once`)
        seen.charged.push(n)
      }),
      handle(OrderPlaced, async ({ n }) => void seen.placedAtPayments.push(n)),
    ],
  })
  const routes = { ConformancePlaceOrder: 'orders', ConformanceChargeCard: 'payments', ConformanceRemind: 'orders', ConformanceScheduleReminder: 'orders' }
  const probe = options.create(check)
  const processes = probe.reachesOtherProcesses ? [['payments'], ['orders']] : [undefined]
  const buses = processes.map((runHere, index) => {
    const fileSystem = (fileSystems[index] ??= createMemoryFileSystem())
    return createBus({
      modules: [orders, payments],
      routes,
      storage: 'memory',
      ...(options.persistence ? { persistence: options.persistence(check) } : {}),
      fileSystem,
      transport: index === 0 ? probe : options.create(check),
      ...(runHere ? { runHere } : {}),
    })
  })
  for (const bus of buses) await bus.start()
  return {
    buses,
    front: buses[buses.length - 1]!,
    seen,
    attempts,
    remindedEarly,
    async stop() {
      for (const bus of [...buses].reverse()) await bus.stop()
    },
  }
}

/** undefined when `list` holds each of 0..count-1 exactly once; otherwise what is wrong. */
function exactlyOnce(label: string, list: readonly number[], count: number): string | undefined {
  const counts = new Map<number, number>()
  for (const n of list) counts.set(n, (counts.get(n) ?? 0) + 1)
  const missing = Array.from({ length: count }, (_, n) => n).filter((n) => !counts.has(n))
  const twice = [...counts].filter(([, times]) => times > 1).map(([n]) => n)
  if (missing.length === 0 && twice.length === 0 && list.length === count) return undefined
  return `${label}: ${missing.length} of ${count} never handled${missing.length ? ` (e.g. ${missing.slice(0, 3).join(', ')})` : ''}, ${twice.length} handled more than once${twice.length ? ` (e.g. ${twice.slice(0, 3).join(', ')})` : ''}`
}

const idleAll = (shop: Shop) => Promise.all(shop.buses.map((bus) => bus.idle()))

/** Runs `check` against a freshly started shop, and stops it whatever happens. */
async function withShop(options: TransportConformanceOptions, name: string, check: (shop: Shop, timeoutMs: number) => Promise<void>, fileSystems?: FileSystem[]): Promise<void> {
  const shop = await startShop(options, name, fileSystems)
  try {
    await check(shop, options.timeoutMs ?? 15_000)
  } finally {
    await shop.stop()
  }
}

/** Waits until `wrong` says nothing is wrong, then, once the buses are idle, checks it still says so. */
async function settlesRight(shop: Shop, wrong: () => string | undefined, timeoutMs: number): Promise<void> {
  await waitUntil(wrong, timeoutMs)
  await idleAll(shop)
  const after = wrong()
  if (after) throw new Error(after)
}

const basicChecks: readonly TransportCheck[] = [
  {
    name: 'delivers each sent command to its module exactly once',
    run: (options) =>
      withShop(options, 'commands', async (shop, timeoutMs) => {
        for (let n = 0; n < 40; n++) await shop.front.send(PlaceOrder, { n })
        await settlesRight(shop, () => exactlyOnce('PlaceOrder at orders', shop.seen.orders, 40), timeoutMs)
      }),
  },
  {
    name: "delivers each event to every subscriber exactly once, and each handler's command to its module",
    run: (options) =>
      withShop(options, 'events', async (shop, timeoutMs) => {
        for (let n = 0; n < 40; n++) await shop.front.send(PlaceOrder, { n })
        const wrong = () => exactlyOnce('OrderPlaced at orders', shop.seen.placedAtOrders, 40) ?? exactlyOnce('OrderPlaced at payments', shop.seen.placedAtPayments, 40) ?? exactlyOnce('ChargeCard at payments', shop.seen.charged, 40)
        await settlesRight(shop, wrong, timeoutMs)
      }),
  },
  {
    name: 'delivers a delayed retry of a failed attempt, and the retry succeeds',
    run: (options) =>
      withShop(options, 'retries', async (shop, timeoutMs) => {
        for (let n = 0; n < 10; n++) await shop.front.send(PlaceOrder, { n })
        await waitUntil(() => exactlyOnce('ChargeCard at payments', shop.seen.charged, 10), timeoutMs)
        const odd = [...shop.attempts].filter(([n]) => n % 2 === 1)
        if (odd.some(([, attempts]) => attempts !== 2)) throw new Error(`a declined card was tried ${odd.map(([, a]) => a).join(', ')} times; expected 2 (one failure, one delayed retry)`)
      }),
  },
  {
    name: 'delivers a deferred message once, never before it is due',
    run: (options) =>
      withShop(options, 'deferred', async (shop, timeoutMs) => {
        // A handler defers Remind by 300 ms: committed with a due time, held until then.
        for (let n = 0; n < 5; n++) await shop.front.send(ScheduleReminder, { n, delayMs: 300 })
        await waitUntil(() => exactlyOnce('Remind at orders', shop.seen.reminded, 5), timeoutMs)
        if (shop.remindedEarly.length > 0) throw new Error(`${shop.remindedEarly.length} deferred messages arrived before they were due`)
      }),
  },
  {
    name: 'after a restart, delivers nothing already handled again',
    async run(options) {
      // Both shops on the same (memory) disks: the second is the first, restarted.
      const fileSystems: FileSystem[] = []
      await withShop(options, 'restart', async (first, timeoutMs) => {
        for (let n = 0; n < 20; n++) await first.front.send(PlaceOrder, { n })
        await waitUntil(() => exactlyOnce('OrderPlaced at payments', first.seen.placedAtPayments, 20) ?? exactlyOnce('ChargeCard at payments', first.seen.charged, 20), timeoutMs)
        await idleAll(first)
      }, fileSystems)
      await withShop(options, 'restart', async (second) => {
        await idleAll(second)
        await new Promise((resolve) => setTimeout(resolve, 300))
        const again = [...second.seen.orders, ...second.seen.charged, ...second.seen.placedAtOrders, ...second.seen.placedAtPayments]
        if (again.length > 0) throw new Error(`${again.length} messages handled before the restart were handled again after it`)
      }, fileSystems)
    },
  },
  {
    name: 'says it is connected once started, with nothing unconfirmed when idle',
    run: (options) =>
      withShop(options, 'status', async (shop, timeoutMs) => {
        await shop.front.send(PlaceOrder, { n: 0 })
        await waitUntil(() => exactlyOnce('ChargeCard at payments', shop.seen.charged, 1), timeoutMs)
        await idleAll(shop)
        for (const bus of shop.buses) {
          const status = bus.admin.transport()
          if (status.state !== 'connected' || status.unconfirmed !== 0) throw new Error(`status ${JSON.stringify(status)}: expected connected with 0 unconfirmed`)
        }
      }),
  },
]

/** Every check a transport is held to: the basic ones above, then the scenarios of transport-scenarios.ts. */
export const transportChecks: readonly TransportCheck[] = [...basicChecks, ...transportScenarios]
