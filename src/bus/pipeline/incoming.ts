import { context as traceContext } from '@opentelemetry/api'
import type { Clock } from '../clock.js'
import type { ModuleTables, Reservation } from '../data/module-tables.js'
import type { DeliveryState, FailureRecord, OutgoingEntry } from '../delivery/delivery.js'
import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { ModuleDefinition } from '../endpoint/module-definition.js'
import type { Handler } from '../endpoint/handle.js'
import { createLogger } from '../endpoint/handler-context.js'
import type { ModuleCounters } from '../endpoint/module-runtime.js'
import { JournalWriteError, PersistenceUnavailableError, TransportUnconfirmedError } from '../errors.js'
import { Headers } from '../messages/headers.js'
import { parseIsoTime } from '../messages/time-stamps.js'
import { AlreadyHandledError, type HandledAudit, type MessageStore, type ModuleStorage, type Outcome, type SharedStore } from '../persistence/persistence.js'
import { describeFailure } from '../recoverability/failure-headers.js'
import type { FailureSink } from '../recoverability/failure-sink.js'
import type { Topology } from '../routing/topology.js'
import type { SagaDefinition } from '../sagas/define-saga.js'
import { InstanceLocks } from '../sagas/instance-locks.js'
import { planSagaRuns, resolveSagaRuns, type SagaRun } from '../sagas/saga-runs.js'
import { sagaKey, type SagaChange } from '../sagas/saga-store.js'
import { deliverySignal, isListened, withFields, type BusEmitter, type BusSignals, type LogLevel } from '../signals.js'
import { loggedMessage, type LoggedMessage } from '../telemetry/bus-logger.js'
import type { BusMetrics } from '../telemetry/metrics.js'
import { endProcessSpan, startProcessSpan } from '../telemetry/tracing.js'
import { AttemptFailed, auditOf, createAttemptRunner, sagaNamesOf, type Attempt } from './attempt-runner.js'
import type { Behavior } from './behavior.js'
import { createFailureRouting } from './failure-routing.js'
import type { ContextScope } from './message-context.js'

export interface IncomingDeps {
  module: ModuleDefinition
  /** The bus's behaviors, then the module's: the steps around its handlers, outermost first. */
  behaviors: readonly Behavior[]
  /** The module's counters (its runtime shows them). */
  counters: ModuleCounters
  topology: Topology
  persistence: MessageStore & ModuleStorage & SharedStore
  /** The module's tables; undefined when it declares none. */
  data: ModuleTables | undefined
  clock: Clock
  signals: BusEmitter
  log: (level: LogLevel, text: string, fields: Record<string, unknown> | undefined, message: LoggedMessage | undefined) => void
  /** The bus's OpenTelemetry instruments. */
  metrics: BusMetrics
  /** Hands freshly committed deliveries to their modules (or holds them until they are due). */
  dispatcher: Pick<Dispatcher, 'dispatch'>
  /** Where a failed delivery goes: a delayed retry, or the error queue (see recoverability/failure-sink.ts). */
  failures: FailureSink
  /** The journal (or the database) could not be written: try the delivery again later, nothing was committed. Resolves once the slot may be freed. */
  retryAfterWriteError: (state: DeliveryState, error: unknown) => Promise<void> | void
}

/** A handled message's outcome: what its handlers sent and changed, and the audit's notes. */
function handledOutcome(sent: OutgoingEntry[], sagas: SagaChange[], data: Reservation | undefined, audit: HandledAudit | undefined): Outcome {
  const outcome: Outcome = { kind: 'handled', sent, sagas }
  if (data) outcome.data = data
  if (audit) outcome.audit = audit
  return outcome
}

/**
 * The incoming pipeline: validate → invoke the handlers (with immediate retries) → commit the consumed
 * mark and the outgoing messages as one record → dispatch them. A failure ends as a delayed retry or in
 * the error queue, decided by the pure recoverability policy.
 */
export function createIncomingPipeline(deps: IncomingDeps): (state: DeliveryState, release: () => void) => Promise<void> {
  const { module, topology, persistence, clock, signals } = deps
  const transactions = persistence.transactions
  const handlers = topology.handlers.get(module.name) ?? new Map<string, readonly Handler[]>()
  const scope: ContextScope = {
    topology,
    module: module.name,
    now: () => clock.now(),
    loggerFor: (env, processing) => {
      const message = loggedMessage(env, processing)
      return createLogger((level, text, fields) => deps.log(level, text, fields, message))
    },
    data: deps.data,
  }

  const locks = new InstanceLocks()
  const sagasByType = topology.sagas.get(module.name) ?? new Map<string, readonly SagaDefinition[]>()
  const handleWithRetries = createAttemptRunner({ ...deps, scope })
  const { fail, failForNoHandler } = createFailureRouting(deps)

  return async function process(state: DeliveryState, release: () => void): Promise<void> {
    const env = state.env
    // Read back from disk and found no longer pending (consumed meanwhile): nothing to do.
    if (!env) return
    const startedAt = performance.now()
    // Failures of earlier delayed rounds come along, newest first.
    const failures: FailureRecord[] = [...(state.failures ?? [])]
    let unlock: (() => void) | undefined
    const processing = startProcessSpan(module.name, env)
    try {
      // A saga's timeout goes to its saga alone.
      const list = env.headers[Headers.SagaName] === undefined ? (handlers.get(env.type) ?? []) : []
      const definition = topology.definition(env.type)
      const sagasOfType = sagasByType.get(env.type) ?? []
      if ((list.length === 0 && sagasOfType.length === 0) || !definition) return await failForNoHandler(state, env, failures, processing, startedAt)
      let body: unknown
      let runs: SagaRun[]
      try {
        body = definition.validate(env.body)
        runs = planSagaRuns(sagasOfType, env, body)
      } catch (error) {
        failures.unshift(describeFailure(error, '(validation)', clock.now()))
        return await fail(state, env, error, failures, processing, startedAt)
      }
      // A timeout type sent as an ordinary message, or a timeout naming another saga: nothing here takes it.
      if (list.length === 0 && runs.length === 0) return await failForNoHandler(state, env, failures, processing, startedAt)
      if (runs.length > 0) {
        unlock = await locks.acquire(runs.map((run) => sagaKey(run.saga.name, run.correlationId)))
        // A database persistence reads each instance inside the attempt's transaction instead.
        if (!transactions) resolveSagaRuns(persistence.sagas, module.name, env, runs)
      }
      let attempt: Attempt
      try {
        // The handlers run in the delivery's span: what they do (their SQL, their HTTP calls) nests under it.
        attempt = processing ? await traceContext.with(processing.context, handleWithRetries, undefined, state, env, body, list, runs, failures, processing) : await handleWithRetries(state, env, body, list, runs, failures, undefined)
      } catch (error) {
        if (error instanceof AlreadyHandledError) return
        if (error instanceof PersistenceUnavailableError) throw error
        // Not a handler's failure (the persistence refused the attempt's start): recorded like one, so the
        // failure the delayed retry or the error queue shows is this error.
        if (!(error instanceof AttemptFailed)) failures.unshift(describeFailure(error, '(persistence)', clock.now()))
        return await fail(state, env, error instanceof AttemptFailed ? error.failure : error, failures, processing, startedAt)
      }
      const sagaNames = sagaNamesOf(runs)
      let produced: DeliveryState[]
      if (attempt.produced) produced = attempt.produced
      else {
        const committing = persistence.commit(module.name, state, handledOutcome(attempt.outgoing, attempt.sagas, attempt.data, auditOf(sagaNames, failures)))
        // The handlers are done: the slot is free while the record waits for its group's fsync.
        release()
        produced = await committing
      }
      const counters = deps.counters
      const durationMs = performance.now() - startedAt
      const sentAt = parseIsoTime(env.headers[Headers.SentAt])
      const criticalTimeMs = Number.isNaN(sentAt) ? durationMs : Math.max(0, clock.now() - sentAt)
      counters.handled++
      counters.processingTimeMsTotal += durationMs
      counters.criticalTimeMsTotal += criticalTimeMs
      deps.metrics.handled(module.name, durationMs, criticalTimeMs)
      if (attempt.outgoing.length > 0) deps.metrics.sent(attempt.outgoing)
      if (isListened(signals, 'message:handled')) {
        const signal: BusSignals['message:handled'] = withFields(deliverySignal(module.name, env, clock.now()), { durationMs, criticalTimeMs })
        if (sagaNames) signal.sagas = sagaNames
        signals.emit('message:handled', signal)
      }
      deps.dispatcher.dispatch(produced)
    } catch (error) {
      if (error instanceof JournalWriteError || error instanceof TransportUnconfirmedError || error instanceof PersistenceUnavailableError) await deps.retryAfterWriteError(state, error)
      else signals.emit('bus:error', { error, during: `handling ${env.type} in ${module.name}` })
    } finally {
      // Only now is the instance's new data in the store: the next message for it may start.
      unlock?.()
      endProcessSpan(processing)
    }
  }
}
