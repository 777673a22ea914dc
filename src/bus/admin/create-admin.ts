import { FaultInjectionNotInstalledError, InvalidAdminArgumentError } from '../errors.js'
import type { ConsoleLink } from '../console-link/console-link.js'
import type { FaultInjection } from '../faults/fault-injection.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import type { ModuleRuntime } from '../endpoint/module-runtime.js'
import { clearsInMs } from '../endpoint/backlog.js'
import type { DeliveryState } from '../delivery/delivery.js'
import type { Persistence } from '../persistence/persistence.js'
import { failedKey, toFailedMessage, type ErrorQueue } from '../recoverability/error-queue.js'
import { forRetry } from '../recoverability/failure-headers.js'
import { describeSchedule } from '../recoverability/policy.js'
import type { Transport } from '../transport/transport.js'
import type { Topology } from '../routing/topology.js'
import { deliverySignal, type BusEmitter, type LogLevel } from '../signals.js'
import { conversationViewPrefix, type ConversationStep } from '../audit/conversation-step.js'
import { loggedMessage, type LoggedMessage } from '../telemetry/bus-logger.js'
import type { AdminApi, DeleteResult, ModuleStatus, RetryResult } from './admin-api.js'

export interface AdminDeps {
  topology: Topology
  outbox: Persistence
  signals: BusEmitter
  errorQueue: ErrorQueue
  /** The modules this process runs. */
  local: LocalModules
  isRunning: () => boolean
  requireRunning: (action: string) => void
  /** Counts the work as activity, so bus.idle() and bus.stop() wait for it. */
  tracked: <T>(work: () => Promise<T>) => Promise<T>
  now: () => number
  transport: Transport
  /** The bus's fault injection, when it has the behavior installed (admin.setFault needs it). */
  faults: FaultInjection | undefined
  /** How this process sees the modules of others, when a console link was given. */
  consoleLink: ConsoleLink | undefined
  log: (module: string, level: LogLevel, text: string, fields?: Record<string, unknown>, message?: LoggedMessage) => void
}

/** How long admin.conversation waits for modules in other processes to report a conversation first asked for. */
const remoteAnswerWaitMs = 5_000

/** The operations people (through the web console) and scripts perform on a running bus. */
export function createAdmin(deps: AdminDeps): AdminApi {
  const { topology, outbox, signals, errorQueue, local, isRunning, requireRunning, tracked, log, now } = deps

  function status(runtime: ModuleRuntime): ModuleStatus {
    const { counters, perSecond, backlog } = runtime
    const clears = clearsInMs(runtime.queueLength, perSecond)
    return {
      name: runtime.name,
      running: runtime.running,
      concurrency: runtime.concurrency,
      queueLength: runtime.queueLength,
      queuedOnDisk: runtime.queuedOnDisk,
      inFlight: runtime.inFlight,
      delayed: local.delayed(runtime.name),
      perSecond,
      ...(clears === undefined ? {} : { clearsInMs: clears }),
      ...(backlog ? { backlog: { ...backlog } } : {}),
      errorQueueLength: errorQueue.size(runtime.name) + (deps.transport.errorQueue?.size(runtime.name) ?? 0),
      handled: counters.handled,
      failed: counters.failed,
      retries: counters.retries,
      faultInjected: deps.faults?.state(runtime.name).injected ?? false,
      faultRate: deps.faults?.state(runtime.name).rate ?? 0,
      maxPerSecond: runtime.maxPerSecond,
      averageProcessingTimeMs: counters.handled === 0 ? 0 : counters.processingTimeMsTotal / counters.handled,
      averageCriticalTimeMs: counters.handled === 0 ? 0 : counters.criticalTimeMsTotal / counters.handled,
      sagas: topology.modules.get(runtime.name)?.sagas.map((saga) => saga.name) ?? [],
      activeSagas: outbox.sagas.count(runtime.name),
      sagasShared: outbox.shared === true,
      location: 'here',
    }
  }

  const remote = () => deps.consoleLink?.remoteModules

  /** A module of another process as its last report showed it, its queue length read from the broker. */
  function remoteStatus(name: string): ModuleStatus | undefined {
    const modules = remote()
    if (!modules || local.has(name) || !topology.modules.has(name)) return undefined
    const reported = modules.statuses().find((status) => status.name === name)
    const brokerQueue = modules.brokerQueueLength(name)
    const errorQueueLength = deps.transport.errorQueue?.size(name) ?? 0
    if (!reported) {
      const definition = topology.modules.get(name)!
      return {
        name, running: false, concurrency: definition.concurrency, queueLength: brokerQueue, queuedOnDisk: 0, inFlight: 0, delayed: 0, perSecond: 0, errorQueueLength,
        handled: 0, failed: 0, retries: 0, faultInjected: false, faultRate: 0, maxPerSecond: definition.maxPerSecond, averageProcessingTimeMs: 0, averageCriticalTimeMs: 0,
        sagas: definition.sagas.map((saga) => saga.name), activeSagas: 0, sagasShared: false, location: 'stale',
      }
    }
    const { reporting, clearsInMs: _reportedClears, ...status } = reported
    const queueLength = status.queueLength + brokerQueue
    const clears = clearsInMs(queueLength, status.perSecond ?? 0)
    return { ...status, perSecond: status.perSecond ?? 0, queueLength, ...(clears === undefined ? {} : { clearsInMs: clears }), errorQueueLength, location: reporting ? 'elsewhere' : 'stale' }
  }

  /** Throws ModuleNotFoundError unless the module runs here or (with a console here) in another process. */
  /** The fault-injection behavior, or a clear error when the bus was created without it. */
  function faultsOf(): FaultInjection {
    if (!deps.faults) throw new FaultInjectionNotInstalledError()
    return deps.faults
  }

  function requireKnownModule(name: string): void {
    if (!local.has(name) && !(remote() && topology.modules.has(name))) local.get(name)
  }

  /** With a broker and the console here: every module of the topology that does not run here. */
  function remoteNames(): string[] {
    return remote() ? [...topology.modules.keys()].filter((name) => !local.has(name)) : []
  }

  /** Sends a person's command to the process that runs the module; reported back as a bus error if the broker refuses it. */
  function command(name: string, action: 'stop' | 'start' | 'fault' | 'fault-rate', extra: { on?: boolean; rate?: number } = {}): void {
    requireKnownModule(name)
    void remote()!
      .control({ module: name, action, ...extra })
      .catch((error: unknown) => signals.emit('bus:error', { error, during: `sending '${action}' to ${name}` }))
  }

  /** Puts deliveries taken from the error queue back in their queues; a failed write returns them to the error queue. */
  function retry(deliveries: DeliveryState[]): Promise<string[]> {
    return tracked(async () => {
      const retried: string[] = []
      await Promise.all(
        deliveries.map(async (delivery) => {
          const env = forRetry(delivery.env!)
          try {
            await outbox.commit(delivery.module, delivery, { kind: 'retried', env })
          } catch (error) {
            errorQueue.add(delivery)
            throw error
          }
          retried.push(failedKey(delivery.module, delivery.id))
          signals.emit('message:retried', deliverySignal(delivery.module, env, now()))
          log(delivery.module, 'info', `Retrying ${env.type} from the error queue`, undefined, loggedMessage(env))
          local.get(delivery.module).enqueue(delivery)
        }),
      )
      return retried
    })
  }

  /** Messages of the broker's error queue (with a broker transport, in the console's process) back to their modules. */
  async function retryAtBroker(idsOrKeys: readonly string[]): Promise<RetryResult> {
    const remote = deps.transport.errorQueue
    if (!remote || idsOrKeys.length === 0) return { retried: [], notFound: [...idsOrKeys] }
    const result = await tracked(() => remote.retry(idsOrKeys))
    for (const key of result.retried) {
      const [module] = key.split(':')
      log(module!, 'info', `Retrying ${key} from the broker's error queue`)
    }
    return result
  }

  return {
    events: signals,
    modules: () => [...local.all()].map(status).concat(remoteNames().map((name) => remoteStatus(name)!)),
    module: (name) => (local.has(name) ? status(local.get(name)) : (remoteStatus(name) ?? status(local.get(name)))),
    moduleNames: () => [...local.names, ...remoteNames()],
    stopModule(name) {
      if (!local.has(name) && remote()) return command(name, 'stop')
      const runtime = local.get(name)
      // Held by a person: it stays stopped across bus.start() until started again.
      if (!local.hold(name)) return
      runtime.stop()
      signals.emit('module:stopped', { module: name })
      log(name, 'warn', 'Module stopped: messages wait in its queue')
    },
    startModule(name) {
      if (!local.has(name) && remote()) return command(name, 'start')
      const runtime = local.get(name)
      if (!local.release(name) || !isRunning()) return
      log(name, 'info', `Module started: ${runtime.queueLength} waiting`)
      signals.emit('module:started', { module: name })
      runtime.start()
    },
    failedMessages: () => [...errorQueue.all().map(toFailedMessage), ...(deps.transport.errorQueue?.list() ?? [])].sort((a, b) => b.failedAt - a.failedAt),
    async retryFailed(idsOrKeys): Promise<RetryResult> {
      requireRunning('retry failed messages')
      // Taken out synchronously: a second click finds them gone and sends nothing twice.
      const { taken, notFound } = errorQueue.take(idsOrKeys)
      const remote = await retryAtBroker(notFound)
      return { retried: [...(await retry(taken)), ...remote.retried], notFound: remote.notFound }
    },
    async retryAllFailed(): Promise<RetryResult> {
      requireRunning('retry failed messages')
      const { taken } = errorQueue.take(errorQueue.all().map((delivery) => failedKey(delivery.module, delivery.id)))
      const remote = await retryAtBroker(deps.transport.errorQueue?.list().map((message) => message.key) ?? [])
      return { retried: [...(await retry(taken)), ...remote.retried], notFound: [] }
    },
    async deleteFailed(idsOrKeys): Promise<DeleteResult> {
      requireRunning('delete failed messages')
      const local = errorQueue.take(idsOrKeys)
      const remote = deps.transport.errorQueue && local.notFound.length > 0 ? await tracked(() => deps.transport.errorQueue!.delete(local.notFound)) : { deleted: [], notFound: local.notFound }
      const { taken } = local
      const notFound = remote.notFound
      const deleted: string[] = []
      await tracked(() =>
        Promise.all(
          taken.map(async (delivery) => {
            const signal = deliverySignal(delivery.module, delivery.env!, now())
            try {
              await outbox.commit(delivery.module, delivery, { kind: 'archived' })
            } catch (error) {
              errorQueue.add(delivery)
              throw error
            }
            deleted.push(failedKey(delivery.module, delivery.id))
            signals.emit('message:archived', signal)
          }),
        ),
      )
      return { deleted: [...deleted, ...remote.deleted], notFound }
    },
    retrySchedule: (name) => {
      requireKnownModule(name)
      return describeSchedule(topology.modules.get(name)!.recoverability)
    },
    logs: (name) => (local.has(name) ? local.get(name).recentLogs : (requireKnownModule(name), remote()?.logs(name) ?? [])),
    sagas(name) {
      // Another process's sagas are not reported (only their count, in its status).
      if (!local.has(name)) return (requireKnownModule(name), [])
      return outbox.sagas
        .list(name)
        .map(({ saga, id, data }) => ({ saga, id, data: structuredClone(data) }))
        .sort((a, b) => a.saga.localeCompare(b.saga) || a.id.localeCompare(b.id))
    },
    setFault(name, on) {
      if (!local.has(name) && remote()) return command(name, 'fault', { on })
      local.get(name)
      if (!faultsOf().set(name, on)) return
      log(name, on ? 'warn' : 'info', on ? 'Fault injected: every handler of this module now throws' : 'Fault removed')
    },
    setFaultRate(name, rate) {
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new InvalidAdminArgumentError('rate', 'a number from 0 to 1', rate)
      if (!local.has(name) && remote()) return command(name, 'fault-rate', { rate })
      local.get(name)
      if (!faultsOf().setRate(name, rate)) return
      log(name, rate > 0 ? 'warn' : 'info', rate > 0 ? `Fault rate set: ${Math.round(rate * 100)}% of handler attempts now fail` : 'Fault rate removed')
    },
    async conversation(conversationId) {
      // Modules whose audit this process reads (its own; every module's with a shared database), then the others' reports.
      const held = [...topology.modules.keys()].filter((name) => local.has(name) || outbox.holdsDataOf(name))
      const steps = [await outbox.conversation(held, conversationId)]
      const elsewhere = remote()
      const others = [...topology.modules.keys()].filter((name) => !held.includes(name))
      if (elsewhere && others.length > 0) {
        const key = `${conversationViewPrefix}${conversationId}`
        // Asking starts the reports; each answers in its process's next one (a second): wait that long once.
        for (let waited = 0; waited < remoteAnswerWaitMs && others.some((name) => elsewhere.view(name, key) === undefined); waited += 250) {
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        for (const name of others) {
          const reported = elsewhere.view(name, key)
          if (Array.isArray(reported)) steps.push(reported as ConversationStep[])
        }
      }
      return steps.flat().sort((a, b) => a.at - b.at)
    },
    journalBytes: () => outbox.totalBytes(),
    transport: () => deps.transport.status(),
    view(name, key) {
      if (local.has(name)) return deps.consoleLink?.views[name]?.(key)
      requireKnownModule(name)
      return remote()?.view(name, key)
    },
    brokerQueueLengths: () => deps.transport.queueLengths(),
  }
}

