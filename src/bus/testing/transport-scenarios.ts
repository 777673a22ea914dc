import { Type } from '@sinclair/typebox'
import { createBus, type Bus } from '../create-bus.js'
import { defineModule } from '../define-module.js'
import type { ModuleDefinition } from '../endpoint/module-definition.js'
import { handle } from '../endpoint/handle.js'
import { defineCommand, defineEvent } from '../messages/define-message.js'
import { createMemoryFileSystem } from '../files/memory-file-system.js'
import type { FileSystem } from '../files/file-system.js'
import type { TransportCheck, TransportConformanceOptions } from './transport-check.js'
import { waitUntil } from './wait-until.js'

/**
 * The transport checks that hold a transport to what transports are held to elsewhere (NServiceBus's
 * TransportTests, Wolverine's compliance suite): competing consumers, concurrency, the error queue and a
 * retry from it, nothing sent by a failed attempt and its immediate retry, a graceful stop, unicode, a due
 * time already past.
 * Each builds its own small set of buses, one per "process" where the transport reaches other processes.
 */

const Charge = defineCommand('ScenarioCharge', Type.Object({ n: Type.Integer() }))
const Charged = defineEvent('ScenarioCharged', Type.Object({ n: Type.Integer() }))
const Note = defineCommand('ScenarioNote', Type.Object({ text: Type.String() }))
const Order = defineCommand('ScenarioOrder', Type.Object({ n: Type.Integer() }))
const Later = defineCommand('ScenarioLater', Type.Object({ n: Type.Integer() }))
const DeferNow = defineCommand('ScenarioDeferNow', Type.Object({ n: Type.Integer() }))

const routes = { ScenarioCharge: 'payments', ScenarioNote: 'payments', ScenarioOrder: 'orders', ScenarioLater: 'orders', ScenarioDeferNow: 'orders' }
const noRetries = { immediateRetries: 0, delayedRetries: { count: 1, baseDelayMs: 50 } }
/** Orders retries a failed attempt once at once, before any delayed retry. */
const oneImmediateRetry = { immediateRetries: 1, delayedRetries: { count: 1, baseDelayMs: 50 } }

/** What the handlers saw, shared by every bus of a check (the "processes" run in this one). */
class Seen {
  readonly charged: number[] = []
  readonly chargedEvent: number[] = []
  readonly orders: number[] = []
  readonly later: number[] = []
  readonly notes: { text: string; header: string | undefined }[] = []
  /** Payments handlers running now, and the most ever at once. */
  running = 0
  mostAtOnce = 0
  /** While set, Charge of these n fails. */
  readonly failing = new Set<number>()
  /** Attempts of Order, by n (the first fails after sending). */
  readonly orderAttempts = new Map<number, number>()
  handlerMs = 0
}

function modules(seen: Seen, paymentsConcurrency = 4): ModuleDefinition[] {
  const payments = defineModule({
    name: 'payments',
    concurrency: paymentsConcurrency,
    recoverability: noRetries,
    handlers: [
      handle(Charge, async ({ n }, context) => {
        seen.running++
        seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running)
        try {
          if (seen.handlerMs > 0) await new Promise((resolve) => setTimeout(resolve, seen.handlerMs))
          if (seen.failing.has(n)) throw new Error(`card ${n} declined`)
          seen.charged.push(n)
          await context.publish(Charged, { n })
        } finally {
          seen.running--
        }
      }),
      handle(Note, async ({ text }, context) => void seen.notes.push({ text, header: context.headers['x-note'] })),
    ],
  })
  const orders = defineModule({
    name: 'orders',
    recoverability: oneImmediateRetry,
    handlers: [
      handle(Order, async ({ n }, context) => {
        const attempt = (seen.orderAttempts.get(n) ?? 0) + 1
        seen.orderAttempts.set(n, attempt)
        await context.send(Charge, { n: 1_000 + n })
        // The first attempt fails after it sent: what it sent must not leave.
        if (attempt === 1) throw new Error(`order ${n} fails after sending`)
        seen.orders.push(n)
      }),
      handle(Later, async ({ n }) => void seen.later.push(n)),
      handle(DeferNow, async ({ n }, context) => context.defer(0, Later, { n })),
      handle(Charged, async ({ n }) => void seen.chargedEvent.push(n)),
    ],
  })
  return [orders, payments]
}

interface Processes {
  /** The bus sends go from (it runs `orders` and hosts the console). */
  front: Bus
  buses: Bus[]
  stop(): Promise<void>
}

/**
 * The buses of a check: one with every module for a transport that stays in its process; otherwise one
 * running `orders` (the front, with the console) and `paymentsInstances` running `payments`.
 */
async function startProcesses(options: TransportConformanceOptions, check: string, seen: Seen, setup: { paymentsInstances?: number; paymentsConcurrency?: number; fileSystems?: FileSystem[] } = {}): Promise<Processes> {
  const probe = options.create(check, { console: true })
  const layout: (string[] | undefined)[] = probe.reachesOtherProcesses ? [['orders'], ...Array.from({ length: setup.paymentsInstances ?? 1 }, () => ['payments'])] : [undefined]
  const fileSystems = setup.fileSystems ?? []
  const buses = layout.map((runHere, index) =>
    createBus({
      modules: modules(seen, setup.paymentsConcurrency),
      routes,
      storage: 'memory',
      ...(options.persistence ? { persistence: options.persistence(check) } : {}),
      fileSystem: (fileSystems[index] ??= createMemoryFileSystem()),
      transport: index === 0 ? probe : options.create(check, { console: false }),
      ...(runHere ? { runHere } : {}),
    }),
  )
  for (const bus of buses) await bus.start()
  return {
    front: buses[0]!,
    buses,
    async stop() {
      for (const bus of [...buses].reverse()) await bus.stop()
    },
  }
}

/** undefined when `list` holds each of `expected` exactly once; otherwise what is wrong. */
function eachOnce(label: string, list: readonly number[], expected: readonly number[]): string | undefined {
  const counts = new Map<number, number>()
  for (const n of list) counts.set(n, (counts.get(n) ?? 0) + 1)
  const missing = expected.filter((n) => !counts.has(n))
  const twice = [...counts].filter(([, times]) => times > 1).map(([n]) => n)
  const unexpected = [...counts.keys()].filter((n) => !expected.includes(n))
  if (missing.length + twice.length + unexpected.length === 0) return undefined
  return `${label}: ${missing.length} of ${expected.length} never handled${missing.length ? ` (e.g. ${missing.slice(0, 3).join(', ')})` : ''}, ${twice.length} more than once${twice.length ? ` (e.g. ${twice.slice(0, 3).join(', ')})` : ''}${unexpected.length ? `, ${unexpected.length} never sent (e.g. ${unexpected.slice(0, 3).join(', ')})` : ''}`
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

/** Runs `check` with fresh processes, and stops them whatever happens. */
async function withProcesses(options: TransportConformanceOptions, name: string, seen: Seen, setup: Parameters<typeof startProcesses>[3], check: (processes: Processes, timeoutMs: number) => Promise<void>): Promise<void> {
  const processes = await startProcesses(options, name, seen, setup)
  try {
    await check(processes, options.timeoutMs ?? 15_000)
  } finally {
    await processes.stop()
  }
}

const idle = (processes: Processes) => Promise.all(processes.buses.map((bus) => bus.idle()))

export const transportScenarios: readonly TransportCheck[] = [
  {
    name: 'gives each command and each event to one instance of a module that runs twice (competing consumers)',
    run: (options) => {
      const seen = new Seen()
      return withProcesses(options, 'competing', seen, { paymentsInstances: 2 }, async (processes, timeoutMs) => {
        for (const n of range(0, 40)) await processes.front.send(Charge, { n })
        await waitUntil(() => eachOnce('Charge at payments', seen.charged, range(0, 40)) ?? eachOnce('Charged at orders', seen.chargedEvent, range(0, 40)), timeoutMs)
        await idle(processes)
        const wrong = eachOnce('Charge at payments', seen.charged, range(0, 40)) ?? eachOnce('Charged at orders', seen.chargedEvent, range(0, 40))
        if (wrong) throw new Error(wrong)
      })
    },
  },
  {
    name: "runs no more of a module's handlers at once than its concurrency",
    run: (options) => {
      const seen = new Seen()
      seen.handlerMs = 20
      return withProcesses(options, 'concurrency', seen, { paymentsConcurrency: 2 }, async (processes, timeoutMs) => {
        for (const n of range(0, 16)) await processes.front.send(Charge, { n })
        await waitUntil(() => eachOnce('Charge at payments', seen.charged, range(0, 16)), timeoutMs)
        if (seen.mostAtOnce > 2) throw new Error(`${seen.mostAtOnce} handlers of a module with concurrency 2 ran at once`)
      })
    },
  },
  {
    name: 'parks a message that keeps failing in the error queue, body and headers intact; retried from there, it is handled once',
    run: (options) => {
      const seen = new Seen()
      seen.failing.add(7)
      return withProcesses(options, 'error-queue', seen, {}, async (processes, timeoutMs) => {
        await processes.front.send(Charge, { n: 7 }, { headers: { 'x-note': 'Zoë — 日本語 ✓' } })
        await waitUntil(() => (processes.front.admin.failedMessages().length === 1 ? undefined : `${processes.front.admin.failedMessages().length} messages in the error queue, expected 1`), timeoutMs)
        const [failed] = processes.front.admin.failedMessages()
        if (JSON.stringify(failed!.envelope.body) !== JSON.stringify({ n: 7 }) || failed!.envelope.headers['x-note'] !== 'Zoë — 日本語 ✓') {
          throw new Error(`the error queue holds ${JSON.stringify(failed!.envelope)}: body or header changed`)
        }
        if (failed!.failures.length !== 2 || !failed!.failures[0]!.message.includes('card 7 declined')) throw new Error(`the error queue lists ${failed!.failures.length} attempts (${failed!.failures[0]?.message}); expected 2, declined`)
        seen.failing.delete(7)
        // As a person does, once the failure is recorded everywhere: a copy that arrives while the module still
        // settles the original is taken for a duplicate (transport/transport-host.ts, receive), a known gap.
        await idle(processes)
        await processes.front.admin.retryFailed([failed!.key])
        await waitUntil(() => eachOnce('Charge at payments after the retry', seen.charged, [7]), timeoutMs)
        await idle(processes)
        await waitUntil(() => (processes.front.admin.failedMessages().length === 0 ? undefined : 'the retried message is still listed as failed'), timeoutMs)
        const wrong = eachOnce('Charge at payments after the retry', seen.charged, [7])
        if (wrong) throw new Error(wrong)
      })
    },
  },
  {
    name: 'sends nothing from an attempt that failed after sending; retried at once (an immediate retry), it is handled once',
    run: (options) => {
      const seen = new Seen()
      return withProcesses(options, 'failed-attempt', seen, {}, async (processes, timeoutMs) => {
        const next: string[] = []
        processes.front.signals.on('message:failed', (signal) => void next.push(signal.next))
        for (const n of range(0, 10)) await processes.front.send(Order, { n })
        await waitUntil(() => eachOnce('Order at orders', seen.orders, range(0, 10)) ?? eachOnce('Charge at payments', seen.charged, range(1_000, 10)), timeoutMs)
        await idle(processes)
        const wrong = eachOnce('Charge at payments (one per successful Order)', seen.charged, range(1_000, 10))
        if (wrong) throw new Error(wrong)
        // Each Order failed once and went straight into its immediate retry, which succeeded: no delayed retry.
        if (next.length !== 10 || next.some((what) => what !== 'immediate-retry')) throw new Error(`failed attempts went on as ${JSON.stringify(next)}, not 10 immediate retries`)
        const attempts = [...seen.orderAttempts.values()]
        if (attempts.length !== 10 || attempts.some((n) => n !== 2)) throw new Error(`Orders took ${JSON.stringify(attempts)} attempts, not 2 each`)
      })
    },
  },
  {
    name: 'carries unicode headers and bodies unchanged',
    run: (options) => {
      const seen = new Seen()
      return withProcesses(options, 'unicode', seen, {}, async (processes, timeoutMs) => {
        const text = 'naïve café — 日本語の注文 — 🚚 — ܫܠܡܐ'
        await processes.front.send(Note, { text }, { headers: { 'x-note': `${text} ✓` } })
        await waitUntil(() => (seen.notes.length === 1 ? undefined : 'the note never arrived'), timeoutMs)
        const [note] = seen.notes
        if (note!.text !== text || note!.header !== `${text} ✓`) throw new Error(`arrived as ${JSON.stringify(note)}`)
      })
    },
  },
  {
    name: 'delivers a deferred message whose time has already come at once',
    run: (options) => {
      const seen = new Seen()
      return withProcesses(options, 'due-already', seen, {}, async (processes) => {
        // Deferred by 0 ms from a handler: due when committed, past by the time the transport takes it.
        for (const n of range(0, 5)) await processes.front.send(DeferNow, { n })
        await waitUntil(() => eachOnce('Later at orders', seen.later, range(0, 5)), 3_000)
      })
    },
  },
  {
    name: 'on a graceful stop, finishes or hands back what it took; restarted, it handles the rest, each once',
    async run(options) {
      const seen = new Seen()
      seen.handlerMs = 30
      const fileSystems: FileSystem[] = []
      const timeoutMs = options.timeoutMs ?? 15_000
      const first = await startProcesses(options, 'graceful', seen, { paymentsConcurrency: 1, fileSystems })
      try {
        for (const n of range(0, 20)) await first.front.send(Charge, { n })
        await waitUntil(() => (seen.charged.length >= 3 ? undefined : `${seen.charged.length} handled before the stop`), timeoutMs)
      } finally {
        await first.stop()
      }
      const second = await startProcesses(options, 'graceful', seen, { paymentsConcurrency: 1, fileSystems })
      try {
        await waitUntil(() => eachOnce('Charge at payments, over the stop', seen.charged, range(0, 20)), timeoutMs)
        await idle(second)
        const wrong = eachOnce('Charge at payments, over the stop', seen.charged, range(0, 20))
        if (wrong) throw new Error(wrong)
      } finally {
        await second.stop()
      }
    },
  },
]
