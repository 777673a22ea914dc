import { InvalidOptionError } from '../errors.js'
import type { ModuleRuntime } from '../endpoint/module-runtime.js'
import type { DeliveryState } from '../outbox/delivery-ledger.js'
import type { Outbox } from '../outbox/outbox.js'
import { failedKey, toFailedMessage, type ErrorQueue } from '../recoverability/error-queue.js'
import { forRetry } from '../recoverability/failure-headers.js'
import { describeSchedule } from '../recoverability/policy.js'
import type { Transport } from '../transport/transport.js'
import type { Topology } from '../routing/topology.js'
import { deliverySignal, type BusEmitter, type LogLevel } from '../signals.js'
import type { AdminApi, DeleteResult, ModuleStatus, RetryResult } from './admin-api.js'

export interface AdminDeps {
  topology: Topology
  outbox: Outbox
  signals: BusEmitter
  errorQueue: ErrorQueue
  runtimes: ReadonlyMap<string, ModuleRuntime>
  runtimeOf: (name: string) => ModuleRuntime
  /** Modules a person stopped; shared with the bus, which leaves them stopped at start. */
  heldModules: Set<string>
  delayedCount: ReadonlyMap<string, number>
  isRunning: () => boolean
  requireRunning: (action: string) => void
  /** Counts the work as activity, so bus.idle() and bus.stop() wait for it. */
  tracked: <T>(work: () => Promise<T>) => Promise<T>
  now: () => number
  transport: Transport
  log: (module: string, level: LogLevel, text: string, fields?: Record<string, unknown>, messageId?: string) => void
}

/** The operations people (through the web console) and scripts perform on a running bus. */
export function createAdmin(deps: AdminDeps): AdminApi {
  const { topology, outbox, signals, errorQueue, runtimes, runtimeOf, heldModules, delayedCount, isRunning, requireRunning, tracked, log, now } = deps

  function status(runtime: ModuleRuntime): ModuleStatus {
    const { counters } = runtime
    return {
      name: runtime.name,
      running: runtime.running,
      concurrency: runtime.concurrency,
      queueLength: runtime.queueLength,
      queuedOnDisk: runtime.queuedOnDisk,
      inFlight: runtime.inFlight,
      delayed: delayedCount.get(runtime.name) ?? 0,
      errorQueueLength: errorQueue.size(runtime.name),
      handled: counters.handled,
      failed: counters.failed,
      retries: counters.retries,
      faultInjected: runtime.faultInjected,
      faultRate: runtime.faultRate,
      maxPerSecond: runtime.maxPerSecond,
      averageProcessingTimeMs: counters.handled === 0 ? 0 : counters.processingTimeMsTotal / counters.handled,
      averageCriticalTimeMs: counters.handled === 0 ? 0 : counters.criticalTimeMsTotal / counters.handled,
      sagas: topology.modules.get(runtime.name)?.sagas.map((saga) => saga.name) ?? [],
      activeSagas: outbox.sagas.count(runtime.name),
    }
  }

  /** Puts deliveries taken from the error queue back in their queues; a failed write returns them to the error queue. */
  function retry(deliveries: DeliveryState[]): Promise<string[]> {
    return tracked(async () => {
      const retried: string[] = []
      await Promise.all(
        deliveries.map(async (delivery) => {
          const env = forRetry(delivery.env!)
          try {
            await outbox.commitRetried(delivery.module, delivery, env)
          } catch (error) {
            errorQueue.add(delivery)
            throw error
          }
          retried.push(failedKey(delivery.module, delivery.id))
          signals.emit('message:retried', deliverySignal(delivery.module, env, now()))
          log(delivery.module, 'info', `Retrying ${env.type} from the error queue`, { messageId: delivery.id }, delivery.id)
          runtimeOf(delivery.module).enqueue(delivery)
        }),
      )
      return retried
    })
  }

  return {
    events: signals,
    modules: () => [...runtimes.values()].map(status),
    module: (name) => status(runtimeOf(name)),
    stopModule(name) {
      const runtime = runtimeOf(name)
      if (heldModules.has(name)) return
      heldModules.add(name)
      runtime.stop()
      signals.emit('module:stopped', { module: name })
      log(name, 'warn', 'Module stopped: messages wait in its queue')
    },
    startModule(name) {
      const runtime = runtimeOf(name)
      if (!heldModules.delete(name) || !isRunning()) return
      log(name, 'info', `Module started: ${runtime.queueLength} waiting`)
      signals.emit('module:started', { module: name })
      runtime.start()
    },
    failedMessages: () => errorQueue.all().map(toFailedMessage).sort((a, b) => b.failedAt - a.failedAt),
    async retryFailed(idsOrKeys): Promise<RetryResult> {
      requireRunning('retry failed messages')
      // Taken out synchronously: a second click finds them gone and sends nothing twice.
      const { taken, notFound } = errorQueue.take(idsOrKeys)
      return { retried: await retry(taken), notFound }
    },
    async retryAllFailed(): Promise<RetryResult> {
      requireRunning('retry failed messages')
      const { taken } = errorQueue.take(errorQueue.all().map((delivery) => failedKey(delivery.module, delivery.id)))
      return { retried: await retry(taken), notFound: [] }
    },
    async deleteFailed(idsOrKeys): Promise<DeleteResult> {
      requireRunning('delete failed messages')
      const { taken, notFound } = errorQueue.take(idsOrKeys)
      const deleted: string[] = []
      await tracked(() =>
        Promise.all(
          taken.map(async (delivery) => {
            const signal = deliverySignal(delivery.module, delivery.env!, now())
            try {
              await outbox.commitArchived(delivery.module, delivery)
            } catch (error) {
              errorQueue.add(delivery)
              throw error
            }
            deleted.push(failedKey(delivery.module, delivery.id))
            signals.emit('message:archived', signal)
          }),
        ),
      )
      return { deleted, notFound }
    },
    retrySchedule: (name) => {
      runtimeOf(name)
      return describeSchedule(topology.modules.get(name)!.recoverability)
    },
    logs: (name) => runtimeOf(name).recentLogs,
    sagas(name) {
      runtimeOf(name)
      return outbox.sagas
        .list(name)
        .map(({ saga, id, data }) => ({ saga, id, data: structuredClone(data) }))
        .sort((a, b) => a.saga.localeCompare(b.saga) || a.id.localeCompare(b.id))
    },
    setFault(name, on) {
      const runtime = runtimeOf(name)
      if (runtime.faultInjected === on) return
      runtime.faultInjected = on
      log(name, on ? 'warn' : 'info', on ? 'Fault injected: every handler of this module now throws' : 'Fault removed')
    },
    setFaultRate(name, rate) {
      const runtime = runtimeOf(name)
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new InvalidOptionError('rate', 'a number from 0 to 1', rate)
      if (runtime.faultRate === rate) return
      runtime.faultRate = rate
      log(name, rate > 0 ? 'warn' : 'info', rate > 0 ? `Fault rate set: ${Math.round(rate * 100)}% of handler attempts now fail` : 'Fault rate removed')
    },
    journalBytes: () => outbox.totalBytes(),
    transport: () => deps.transport.status(),
    brokerQueueLengths: () => deps.transport.queueLengths(),
  }
}

