import { isDeepStrictEqual } from 'node:util'
import { systemClock } from '../clock.js'
import type { DeliveryState, FailureRecord, OutgoingEntry } from '../delivery/delivery.js'
import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import { newMessageId } from '../messages/message-id.js'
import type { Persistence, PersistenceContext, PersistenceFactory, Recovered } from '../persistence/persistence.js'

/**
 * What any persistence must do, as checks a persistence's own tests run (test/persistence/conformance.test.ts
 * runs them against journal files on disk, journal files in memory and PostgreSQL). Each check opens the
 * persistence of two modules (orders, payments), writes through its roles as the bus would, then opens it
 * again, as after a restart, and looks at what recovery found. A check throws an Error saying what the
 * persistence got wrong.
 */
export interface PersistenceConformanceOptions {
  /**
   * The persistence for one check. Called again for the same check (a restart), it must reach the same
   * storage: the same directory, file system or schemas. Each check gets storage no other check uses.
   */
  create(check: string): PersistenceFactory
}

export interface PersistenceCheck {
  name: string
  run(options: PersistenceConformanceOptions): Promise<void>
}

const modules = ['orders', 'payments'] as const

function context(errors: unknown[]): PersistenceContext {
  return {
    modules,
    allModules: modules,
    tables: new Map(),
    audit: false,
    concurrency: 2,
    clock: systemClock,
    reachesOtherProcesses: false,
    onError: (error) => errors.push(error),
    relay: () => {},
  }
}

/** An open persistence of a check, with what it reported. */
interface Opened {
  persistence: Persistence
  recovered: Recovered
  close(): Promise<void>
}

async function open(options: PersistenceConformanceOptions, check: string): Promise<Opened> {
  const errors: unknown[] = []
  const persistence = options.create(check)(context(errors))
  const recovered = await persistence.open()
  return {
    persistence,
    recovered,
    async close() {
      await persistence.close()
      if (errors.length > 0) throw new Error(`${check}: the persistence reported an error: ${String(errors[0])}`, { cause: errors[0] })
    },
  }
}

let counter = 0
function envelope(type: string, extra: Record<string, string> = {}): Envelope {
  const id = newMessageId()
  return { id, type, headers: { [Headers.MessageId]: id, [Headers.Type]: type, [Headers.SentAt]: new Date().toISOString(), ...extra }, body: { n: ++counter, text: 'ünïcødé ✓' } }
}

const failure = (): FailureRecord => ({ at: Date.now(), handler: 'chargeCard', type: 'Error', message: 'card declined' })

function fail(check: string, what: string): never {
  throw new Error(`${check}: ${what}`)
}

function queuedIds(recovered: Recovered, module: string): string[] {
  return (recovered.queued.get(module) ?? []).map((delivery) => delivery.id)
}

/** The deliveries' messages, in memory or read back. */
async function messagesOf(persistence: Persistence, deliveries: readonly DeliveryState[]): Promise<Envelope[]> {
  const read = await persistence.readBack(deliveries.filter((delivery) => delivery.env === undefined))
  return deliveries.map((delivery) => delivery.env ?? read.get(delivery)!)
}

/** Sends from outside, then returns the delivery for `module`. */
async function sendFromOutside(check: string, persistence: Persistence, entry: OutgoingEntry, module: string): Promise<DeliveryState> {
  const deliveries = await persistence.commitOutside([entry])
  const delivery = deliveries.find((candidate) => candidate.module === module && candidate.id === entry.env.id)
  if (!delivery) fail(check, `commitOutside resolved without the delivery to ${module}`)
  return delivery
}

async function restartWith(options: PersistenceConformanceOptions, check: string, write: (persistence: Persistence) => Promise<void>): Promise<Opened> {
  const first = await open(options, check)
  try {
    await write(first.persistence)
  } finally {
    await first.close()
  }
  return open(options, check)
}

/** Writes, restarts, then looks at what the restart found; the reopened persistence is closed either way. */
async function afterRestart(options: PersistenceConformanceOptions, check: string, write: (persistence: Persistence) => Promise<void>, look: (again: Opened) => Promise<void>): Promise<void> {
  const again = await restartWith(options, check, write)
  try {
    await look(again)
  } finally {
    await again.close()
  }
}

export const persistenceChecks: PersistenceCheck[] = [
  {
    name: 'keeps a message sent from outside, unchanged, across a restart',
    async run(options) {
      const check = this.name
      const env = envelope('PlaceOrder')
      await afterRestart(options, check, async (persistence) => {
        const delivery = await sendFromOutside(check, persistence, { to: ['orders'], env }, 'orders')
        if (delivery.kind !== undefined) fail(check, `a new delivery has kind ${delivery.kind}, not undefined (pending)`)
      }, async (again) => {
        const queued = again.recovered.queued.get('orders') ?? []
        if (queued.length !== 1 || queued[0]!.id !== env.id) fail(check, `after a restart orders' queue holds ${JSON.stringify(queuedIds(again.recovered, 'orders'))}, not [${env.id}]`)
        const [read] = await messagesOf(again.persistence, queued)
        if (!isDeepStrictEqual(read, env)) fail(check, `the message came back changed: ${JSON.stringify(read)}`)
      })
    },
  },
  {
    name: 'keeps the queue in the order messages arrived',
    async run(options) {
      const check = this.name
      const envs = Array.from({ length: 5 }, () => envelope('PlaceOrder'))
      await afterRestart(options, check, async (persistence) => {
        for (const env of envs) await sendFromOutside(check, persistence, { to: ['orders'], env }, 'orders')
      }, async (again) => {
        const ids = queuedIds(again.recovered, 'orders')
        if (JSON.stringify(ids) !== JSON.stringify(envs.map((env) => env.id))) fail(check, `recovered in the order ${JSON.stringify(ids)}, sent as ${JSON.stringify(envs.map((env) => env.id))}`)
      })
    },
  },
  {
    name: 'recovers a handled delivery never again, and what its handlers sent',
    async run(options) {
      const check = this.name
      const placed = envelope('PlaceOrder')
      const charge = envelope('ChargeCard')
      await afterRestart(options, check, async (persistence) => {
        const delivery = await sendFromOutside(check, persistence, { to: ['orders'], env: placed }, 'orders')
        const sent = await persistence.commit('orders', delivery, { kind: 'handled', sent: [{ to: ['payments'], env: charge }] })
        if (!sent.some((produced) => produced.module === 'payments' && produced.id === charge.id)) fail(check, 'a handled commit resolved without the delivery its handler sent')
      }, async (again) => {
        if (queuedIds(again.recovered, 'orders').length > 0) fail(check, `the handled message is queued again after a restart: ${JSON.stringify(queuedIds(again.recovered, 'orders'))}`)
        if (JSON.stringify(queuedIds(again.recovered, 'payments')) !== JSON.stringify([charge.id])) fail(check, `payments' queue holds ${JSON.stringify(queuedIds(again.recovered, 'payments'))}, not the message sent by the handled one`)
      })
    },
  },
  {
    name: 'settles each subscriber of an event on its own',
    async run(options) {
      const check = this.name
      const event = envelope('OrderPlaced')
      await afterRestart(options, check, async (persistence) => {
        const deliveries = await persistence.commitOutside([{ to: ['orders', 'payments'], env: event }])
        if (deliveries.length !== 2) fail(check, `an event to two modules made ${deliveries.length} deliveries, not 2`)
        await persistence.commit('orders', deliveries.find((delivery) => delivery.module === 'orders')!, { kind: 'handled', sent: [] })
      }, async (again) => {
        if (queuedIds(again.recovered, 'orders').length > 0) fail(check, 'the subscriber that handled the event has it queued again')
        if (JSON.stringify(queuedIds(again.recovered, 'payments')) !== JSON.stringify([event.id])) fail(check, 'the subscriber that had not handled the event lost it')
      })
    },
  },
  {
    name: 'keeps a delayed retry waiting for its time, with its attempts, across a restart',
    async run(options) {
      const check = this.name
      const env = envelope('ChargeCard')
      const at = Date.now() + 60_000
      const failures = [failure()]
      await afterRestart(options, check, async (persistence) => {
        const delivery = await sendFromOutside(check, persistence, { to: ['payments'], env }, 'payments')
        await persistence.commit('payments', delivery, { kind: 'delayed', env: { ...env, headers: { ...env.headers, [Headers.DelayedRetries]: '1' } }, at, failures })
      }, async (again) => {
        if (queuedIds(again.recovered, 'payments').length > 0) fail(check, 'a delayed retry is queued at once after a restart')
        const delayed = again.recovered.delayed.find((delivery) => delivery.id === env.id)
        if (!delayed) fail(check, 'a delayed retry was lost in a restart')
        if (delayed.kind !== 'delayed' || delayed.module !== 'payments') fail(check, `a delayed retry came back as ${delayed.kind} for ${delayed.module}`)
        if (delayed.at === undefined || Math.abs(delayed.at - at) > 1) fail(check, `a delayed retry due at ${at} came back due at ${delayed.at}`)
        if (delayed.failures?.[0]?.message !== 'card declined') fail(check, `a delayed retry lost its failed attempts: ${JSON.stringify(delayed.failures)}`)
        const [read] = await messagesOf(again.persistence, [delayed])
        if (read?.headers[Headers.DelayedRetries] !== '1') fail(check, 'a delayed retry lost its round count')
      })
    },
  },
  {
    name: 'keeps a deferred message waiting for its time across a restart',
    async run(options) {
      const check = this.name
      const env = envelope('Remind')
      const at = Date.now() + 60_000
      await afterRestart(options, check, async (persistence) => {
        await sendFromOutside(check, persistence, { to: ['orders'], env, at }, 'orders')
      }, async (again) => {
        if (queuedIds(again.recovered, 'orders').length > 0) fail(check, 'a deferred message is queued before its time after a restart')
        const deferred = again.recovered.delayed.find((delivery) => delivery.id === env.id)
        if (!deferred) fail(check, 'a deferred message was lost in a restart')
        if (deferred.kind !== undefined || deferred.at === undefined || Math.abs(deferred.at - at) > 1) fail(check, `a deferred message came back as ${deferred.kind} due at ${deferred.at}, not pending due at ${at}`)
      })
    },
  },
  {
    name: 'keeps a failed message in the error queue, with its failure headers and attempts',
    async run(options) {
      const check = this.name
      const env = envelope('ChargeCard')
      const failedEnv = { ...env, headers: { ...env.headers, [Headers.ExceptionType]: 'Error', [Headers.ExceptionMessage]: 'card declined' } }
      await afterRestart(options, check, async (persistence) => {
        const delivery = await sendFromOutside(check, persistence, { to: ['payments'], env }, 'payments')
        await persistence.commit('payments', delivery, { kind: 'failed', env: failedEnv, failures: [failure(), failure()] })
      }, async (again) => {
        const failed = again.recovered.failed.find((delivery) => delivery.id === env.id)
        if (!failed) fail(check, 'a failed message left the error queue in a restart')
        if (queuedIds(again.recovered, 'payments').length > 0) fail(check, 'a failed message is queued again after a restart')
        const [read] = await messagesOf(again.persistence, [failed])
        if (read?.headers[Headers.ExceptionMessage] !== 'card declined') fail(check, 'a failed message lost its failure headers')
        if (!isDeepStrictEqual(read?.body, env.body)) fail(check, 'a failed message lost its body')
        if (failed.failures?.length !== 2) fail(check, `a failed message kept ${failed.failures?.length ?? 0} attempts, not 2`)
      })
    },
  },
  {
    name: 'queues a message retried from the error queue again, and forgets an archived one',
    async run(options) {
      const check = this.name
      const retried = envelope('ChargeCard')
      const archived = envelope('ChargeCard')
      const again = await restartWith(options, check, async (persistence) => {
        for (const env of [retried, archived]) {
          const delivery = await sendFromOutside(check, persistence, { to: ['payments'], env }, 'payments')
          await persistence.commit('payments', delivery, { kind: 'failed', env, failures: [failure()] })
        }
      })
      let third: Opened | undefined
      try {
        const [first, second] = [retried, archived].map((env) => again.recovered.failed.find((delivery) => delivery.id === env.id))
        if (!first || !second) fail(check, 'failed messages left the error queue in a restart')
        await again.persistence.commit('payments', first, { kind: 'retried', env: { ...retried, headers: { ...retried.headers, [Headers.Retries]: '1' } } })
        await again.persistence.commit('payments', second, { kind: 'archived' })
        await again.close()
        third = await open(options, check)
        if (third.recovered.failed.some((delivery) => delivery.id === retried.id || delivery.id === archived.id)) fail(check, 'a retried or archived message is back in the error queue after a restart')
        if (JSON.stringify(queuedIds(third.recovered, 'payments')) !== JSON.stringify([retried.id])) fail(check, `payments' queue holds ${JSON.stringify(queuedIds(third.recovered, 'payments'))}, not just the retried message`)
        const [read] = await messagesOf(third.persistence, third.recovered.queued.get('payments')!)
        if (read?.headers[Headers.Retries] !== '1') fail(check, 'a retried message lost its retry count')
      } finally {
        await (third ?? again).close()
      }
    },
  },
  {
    name: "keeps a saga instance a handled message changed, and forgets it once done",
    async run(options) {
      const check = this.name
      const start = envelope('PlaceOrder')
      const finish = envelope('OrderBilled')
      const again = await restartWith(options, check, async (persistence) => {
        const delivery = await sendFromOutside(check, persistence, { to: ['orders'], env: start }, 'orders')
        await persistence.commit('orders', delivery, { kind: 'handled', sent: [], sagas: [{ saga: 'fulfilment', id: 'o-1', instance: start.id, data: { placed: true } }] })
      })
      let third: Opened | undefined
      try {
        const instance = again.persistence.sagas.get('orders', 'fulfilment', 'o-1')
        if (!isDeepStrictEqual(instance?.data, { placed: true })) fail(check, `a saga instance came back as ${JSON.stringify(instance)} after a restart`)
        const delivery = await sendFromOutside(check, again.persistence, { to: ['orders'], env: finish }, 'orders')
        await again.persistence.commit('orders', delivery, { kind: 'handled', sent: [], sagas: [{ saga: 'fulfilment', id: 'o-1', done: true }] })
        await again.close()
        third = await open(options, check)
        if (third.persistence.sagas.get('orders', 'fulfilment', 'o-1')) fail(check, 'a completed saga instance is active again after a restart')
      } finally {
        await (third ?? again).close()
      }
    },
  },
]
