import type { Clock } from '../clock.js'
import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { Persistence } from '../persistence/persistence.js'
import type { Behavior } from '../pipeline/behavior.js'
import { createIncomingPipeline } from '../pipeline/incoming.js'
import type { ErrorQueue } from '../recoverability/error-queue.js'
import { brokerFailureSink, journalFailureSink, type FailureSink } from '../recoverability/failure-sink.js'
import type { Topology } from '../routing/topology.js'
import type { BusEmitter } from '../signals.js'
import type { BusMetrics } from '../telemetry/metrics.js'
import type { ModuleLog } from '../telemetry/module-log.js'
import type { ParkedAtBroker } from '../transport/parked-at-broker.js'
import type { Transport } from '../transport/transport.js'
import type { ModuleDefinition } from './module-definition.js'
import { createModuleCounters, createModuleRuntime, type ModuleRuntime, type QueueSpill } from './module-runtime.js'

export interface ModuleWiringDeps {
  topology: Topology
  /** The bus's own behaviors (each module adds its own inside them). */
  busBehaviors: readonly Behavior[]
  persistence: Persistence
  clock: Clock
  signals: BusEmitter
  log: ModuleLog
  metrics: BusMetrics
  dispatcher: Dispatcher
  transport: Transport
  errorQueue: ErrorQueue
  parked: ParkedAtBroker
  /** How long a delivery waits after its journal (or database) could not be written. */
  writeErrorBackoffMs: number
  /** Deliveries a module's queue keeps with their messages in memory (the rest wait on disk). */
  queuedInMemory: number
  /** A module settled: the bus may be quiet. */
  onQuiet: () => void
}

/**
 * One module of this process, put together: its counters, its incoming pipeline (claim, validate, invoke,
 * commit) with where its failures go, and the runtime that feeds the pipeline from its queue.
 */
export function wireModule(module: ModuleDefinition, deps: ModuleWiringDeps): ModuleRuntime {
  const { persistence, clock, signals, dispatcher, writeErrorBackoffMs } = deps
  // Shared by its pipeline (retries, failures) and its runtime (handled, times).
  const counters = createModuleCounters()
  const process = createIncomingPipeline({
    module,
    behaviors: [...deps.busBehaviors, ...module.behaviors],
    counters,
    topology: deps.topology,
    persistence,
    data: persistence.data(module.name),
    clock,
    signals,
    log: (level, text, fields, message) => deps.log(module.name, level, text, fields, message),
    metrics: deps.metrics,
    dispatcher,
    failures: failureSinkOf(module.name, deps),
    retryAfterWriteError(delivery, error) {
      signals.emit('bus:error', { error, during: `committing ${delivery.env?.type} in ${module.name}` })
      // A broker's message goes back to the broker, which delivers it again: after the backoff, holding
      // the slot meanwhile, so a database that is away is not asked again at once for every message.
      if (delivery.settled) return new Promise<void>((resolve) => clock.setTimer(resolve, writeErrorBackoffMs))
      delivery.at = clock.now() + writeErrorBackoffMs
      dispatcher.delay(delivery)
    },
  })
  return createModuleRuntime({ name: module.name, counters, concurrency: module.concurrency, maxPerSecond: module.maxPerSecond, clock, process, onQuiet: deps.onQuiet, spill: spillOf(module.name, deps) })
}

/** Where a failed delivery goes: the broker's delay and error queues when it has them, else this process's journal. */
function failureSinkOf(module: string, deps: ModuleWiringDeps): FailureSink {
  const { transport, persistence } = deps
  if (transport.retryLater && transport.park) {
    return brokerFailureSink({ module, outbox: persistence, transport: { retryLater: transport.retryLater.bind(transport), park: transport.park.bind(transport) }, parked: (delivery) => deps.parked.mark(delivery) })
  }
  return journalFailureSink({ module, outbox: persistence, clock: deps.clock, delay: (delivery) => deps.dispatcher.delay(delivery), toErrorQueue: (delivery) => deps.errorQueue.add(delivery) })
}

/** A long queue keeps its messages on disk, read back from the persistence in their turn. */
function spillOf(module: string, deps: ModuleWiringDeps): QueueSpill {
  const { persistence } = deps
  return {
    inMemory: deps.queuedInMemory,
    retryAfterMs: deps.writeErrorBackoffMs,
    release(delivery) {
      if (!delivery.env || !persistence.canReadBack(delivery)) return false
      delivery.env = undefined
      return true
    },
    async load(deliveries) {
      const envs = await persistence.readBack(deliveries.filter((delivery) => delivery.env === undefined))
      for (const [delivery, env] of envs) delivery.env ??= env
    },
    onError: (error) => deps.signals.emit('bus:error', { error, during: `reading queued messages of ${module} back from the journal` }),
  }
}
