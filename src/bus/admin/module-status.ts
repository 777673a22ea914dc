import { conversationViewPrefix, type ConversationStep } from '../audit/conversation-step.js'
import type { ConsoleLink } from '../console-link/console-link.js'
import { clearsInMs } from '../endpoint/backlog.js'
import type { ModuleRuntime } from '../endpoint/module-runtime.js'
import type { FaultInjection } from '../faults/fault-injection.js'
import type { Housekeeping, ModuleStorage, SharedStore } from '../persistence/persistence.js'
import type { ErrorQueue } from '../recoverability/error-queue.js'
import { describeSchedule } from '../recoverability/policy.js'
import type { Topology } from '../routing/topology.js'
import type { Transport } from '../transport/transport.js'
import type { AdminApi, ModuleStatus } from './admin-api.js'
import type { KnownModules } from './known-modules.js'

export interface ModuleStatusDeps {
  topology: Topology
  modules: KnownModules
  persistence: ModuleStorage & SharedStore & Housekeeping
  errorQueue: ErrorQueue
  transport: Transport
  faults: FaultInjection | undefined
  consoleLink: ConsoleLink | undefined
}

/** How long admin.conversation waits for modules in other processes to report a conversation first asked for. */
const remoteAnswerWaitMs = 5_000

type StatusReads = Pick<AdminApi, 'modules' | 'module' | 'moduleNames' | 'logs' | 'sagas' | 'retrySchedule' | 'conversation' | 'view' | 'journalBytes' | 'transport' | 'brokerQueueLengths'>

/** What people read of the modules: their status, logs, sagas, retry schedule, conversations and views. */
export function createModuleStatus(deps: ModuleStatusDeps): StatusReads {
  const { topology, modules: known, persistence, errorQueue } = deps
  const { local } = known

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
      activeSagas: persistence.sagas.count(runtime.name),
      sagasShared: persistence.shared === true,
      location: 'here',
    }
  }

  /** A module of another process as its last report showed it, its queue length read from the broker. */
  function remoteStatus(name: string): ModuleStatus | undefined {
    const modules = known.remote
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
    const { reporting, clearsInMs: _reportedClears, ...reportedStatus } = reported
    const queueLength = reportedStatus.queueLength + brokerQueue
    const clears = clearsInMs(queueLength, reportedStatus.perSecond ?? 0)
    return { ...reportedStatus, perSecond: reportedStatus.perSecond ?? 0, queueLength, ...(clears === undefined ? {} : { clearsInMs: clears }), errorQueueLength, location: reporting ? 'elsewhere' : 'stale' }
  }

  return {
    modules: () => [...local.all()].map(status).concat(known.remoteNames().map((name) => remoteStatus(name)!)),
    module: (name) => (local.has(name) ? status(local.get(name)) : (remoteStatus(name) ?? status(local.get(name)))),
    moduleNames: () => [...local.names, ...known.remoteNames()],
    retrySchedule: (name) => {
      known.require(name)
      return describeSchedule(topology.modules.get(name)!.recoverability)
    },
    logs: (name) => (local.has(name) ? local.get(name).recentLogs : (known.require(name), known.remote?.logs(name) ?? [])),
    sagas(name) {
      // Another process's sagas are not reported (only their count, in its status).
      if (!local.has(name)) return (known.require(name), [])
      return persistence.sagas
        .list(name)
        .map(({ saga, id, data }) => ({ saga, id, data: structuredClone(data) }))
        .sort((a, b) => a.saga.localeCompare(b.saga) || a.id.localeCompare(b.id))
    },
    async conversation(conversationId) {
      // Modules whose audit this process reads (its own; every module's with a shared database), then the others' reports.
      const held = [...topology.modules.keys()].filter((name) => local.has(name) || persistence.holdsDataOf(name))
      const steps: ConversationStep[][] = [await persistence.conversation(held, conversationId)]
      const elsewhere = known.remote
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
    journalBytes: () => persistence.totalBytes(),
    transport: () => deps.transport.status(),
    view(name, key) {
      if (local.has(name)) return deps.consoleLink?.views[name]?.(key)
      known.require(name)
      return known.remote?.view(name, key)
    },
    brokerQueueLengths: () => deps.transport.queueLengths(),
  }
}
