import pRetry from 'p-retry'
import type { Clock } from '../clock.js'
import type { ModuleData, Reservation } from '../data/module-data.js'
import { TransportUnconfirmedError, DataConflictError, JournalWriteError, NoHandlerError, PersistenceUnavailableError } from '../errors.js'
import type { ModuleDefinition } from '../endpoint/define-module.js'
import type { Handler } from '../endpoint/handle.js'
import { createLogger } from '../endpoint/handler-context.js'
import type { ModuleCounters } from '../endpoint/module-runtime.js'
import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import type { DeliveryState } from '../delivery/delivery.js'
import { AlreadyHandledError, type HandledAudit, type MessageStore, type ModuleStorage, type Outcome, type SharedStore } from '../persistence/persistence.js'
import type { FailureRecord, OutgoingEntry } from '../delivery/delivery.js'
import { describeFailure, withDelayedRetryCount, withFailureHeaders } from '../recoverability/failure-headers.js'
import type { FailureSink } from '../recoverability/failure-sink.js'
import { decideAfterFailure, isUnrecoverable } from '../recoverability/policy.js'
import type { Topology } from '../routing/topology.js'
import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { SagaDefinition } from '../sagas/define-saga.js'
import { InstanceLocks } from '../sagas/instance-locks.js'
import { attemptSagaRun, planSagaRuns, resolveSagaRun, resolveSagaRuns, type SagaRun } from '../sagas/saga-runs.js'
import { sagaKey, type SagaChange } from '../sagas/saga-store.js'
import { deliverySignal, isListened, withFields, type BusEmitter, type BusSignals, type LogLevel } from '../signals.js'
import { parseIsoTime } from '../messages/time-stamps.js'
import { runBehaviors, type Behavior, type IncomingMessage } from './behavior.js'
import { MessageContext, type ContextScope } from './message-context.js'
import { context as traceContext } from '@opentelemetry/api'
import { loggedMessage, type LoggedMessage } from '../telemetry/bus-logger.js'
import type { BusMetrics } from '../telemetry/metrics.js'
import { withLink } from '../telemetry/trace-headers.js'
import { endProcessSpan, failProcessSpan, recordFailedAttempt, startProcessSpan, type Processing } from '../telemetry/tracing.js'

export interface IncomingDeps {
  module: ModuleDefinition
  /** The bus's behaviors, then the module's: the steps around its handlers, outermost first. */
  behaviors: readonly Behavior[]
  /** The module's counters (its runtime shows them). */
  counters: ModuleCounters
  topology: Topology
  persistence: MessageStore & ModuleStorage & SharedStore
  /** The module's tables; undefined when it declares none. */
  data: ModuleData | undefined
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

/** Carries a handler's error through p-retry, which would otherwise refuse to retry a TypeError. */
class AttemptFailed extends Error {
  constructor(
    readonly failure: unknown,
    readonly handler: string,
  ) {
    super('handler attempt failed')
  }
}

interface Attempt {
  outgoing: OutgoingEntry[]
  sagas: SagaChange[]
  /** The documents the attempt wrote, claimed until its record is synced. */
  data: Reservation | undefined
  /** With a database persistence the attempt committed in its own transaction: the deliveries it produced. */
  produced?: DeliveryState[]
}

/** The saga names whose instances an attempt ran or started (the audit's step names them). */
function sagaNamesOf(runs: readonly SagaRun[]): string[] | undefined {
  return runs.length > 0 ? runs.filter((run) => run.outcome === 'run' || run.outcome === 'start').map((run) => run.saga.name) : undefined
}

/** What the audit's `handled` step says beside the outcome: the failed attempts before it, the sagas it changed. */
/** A handled message's outcome: what its handlers sent and changed, and the audit's notes. */
function handledOutcome(sent: OutgoingEntry[], sagas: SagaChange[], data: Reservation | undefined, audit: HandledAudit | undefined): Outcome {
  const outcome: Outcome = { kind: 'handled', sent, sagas }
  if (data) outcome.data = data
  if (audit) outcome.audit = audit
  return outcome
}

function auditOf(sagaNames: readonly string[] | undefined, failures: readonly FailureRecord[]): HandledAudit | undefined {
  return sagaNames || failures.length > 0 ? { failures, ...(sagaNames ? { sagas: sagaNames } : {}) } : undefined
}

/**
 * How often one attempt runs its handlers again because another message changed a document it read
 * first, before the conflict counts as a failed attempt. Each run waits for the other writer's commit,
 * so a run only conflicts again if yet another writer got in first.
 */
const maxConflictRuns = 10

/**
 * The incoming pipeline: validate → invoke the handlers (with immediate retries) → commit the consumed
 * mark and the outgoing messages as one record → dispatch them. A failure ends as a delayed retry or in
 * the error queue, decided by the pure recoverability policy.
 */
export function createIncomingPipeline(deps: IncomingDeps): (state: DeliveryState, release: () => void) => Promise<void> {
  const { module, topology, persistence, clock, signals, behaviors } = deps
  const transactions = persistence.transactions
  const incomingMessage = (env: Envelope, body: unknown): IncomingMessage => ({ type: env.type, kind: env.headers[Headers.Kind] === 'event' ? 'event' : 'command', body, messageId: env.id, headers: env.headers, module: module.name })
  const handlers = topology.handlers.get(module.name) ?? new Map<string, readonly Handler[]>()
  const config = module.recoverability
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

  async function invoke(state: DeliveryState, env: Envelope, body: unknown, list: readonly Handler[], runs: readonly SagaRun[], failures: readonly FailureRecord[], processing: Processing | undefined): Promise<Attempt> {
    for (let run = 1; ; run++) {
      const outgoing: OutgoingEntry[] = []
      const sagas: SagaChange[] = []
      // A database persistence: the attempt's own transaction, begun with the inbox mark (outside the
      // try: a database that cannot be reached is not the handlers' failure).
      const transaction = transactions ? await transactions.begin(module.name, state) : undefined
      const context = new MessageContext(scope, env, outgoing, transaction, processing)
      let current = list[0]?.name ?? runs[0]?.saga.name ?? '(saga)'
      try {
        // Each run reads its instance inside the transaction, locked until it ends.
        if (transaction) for (const saga of runs) resolveSagaRun(saga, env, await transaction.saga(saga.saga.name, saga.correlationId))
        if (behaviors.length === 0) {
          // Inline, not the closure below: a closure made per attempt (named by tsx) and the extra await
          // cost the in-memory drain 5-8% (npm run bench -- --quick --only bus, three rounds each way).
          for (const handler of list) {
            current = handler.name
            await handler.fn(body as never, context)
          }
          for (const saga of runs) {
            current = `${saga.saga.name}: ${saga.handler?.name ?? env.type}`
            const change = await attemptSagaRun(saga, env, body, context)
            if (change) sagas.push(change)
          }
        } else {
          const handle = async () => {
            for (const handler of list) {
              current = handler.name
              await handler.fn(body as never, context)
            }
            for (const saga of runs) {
              current = `${saga.saga.name}: ${saga.handler?.name ?? env.type}`
              const change = await attemptSagaRun(saga, env, body, context)
              if (change) sagas.push(change)
            }
          }
          await runBehaviors(behaviors, incomingMessage(env, body), context, handle, (step) => (current = step))
        }
        if (transaction) {
          current = '(commit)'
          const produced = await transaction.commit(outgoing, sagas, auditOf(sagaNamesOf(runs), failures))
          return { outgoing, sagas, data: undefined, produced }
        }
        // Last, and synchronously up to the append: what was read is unchanged, what was written is claimed.
        return { outgoing, sagas, data: context.reserveData() }
      } catch (error) {
        if (transaction) await transaction.rollback()
        // Handled already (another instance, an earlier delivery): not a failure, nothing to retry.
        if (error instanceof AlreadyHandledError) throw error
        if ((error instanceof DataConflictError || (transactions?.isConflict(error) ?? false)) && run < maxConflictRuns) {
          await context.dataSettled()
          continue
        }
        // The database went away: not the handlers' failure; the delivery is tried again later.
        if (error instanceof PersistenceUnavailableError) throw error
        throw new AttemptFailed(error, current)
      }
    }
  }

  function recordAttemptFailure(state: DeliveryState, env: Envelope, attempt: AttemptFailed, failures: FailureRecord[], retriesLeft: number, processing: Processing | undefined): void {
    const failure = describeFailure(attempt.failure, attempt.handler, clock.now())
    failures.unshift(failure)
    if (retriesLeft > 0 && !isUnrecoverable(attempt.failure)) {
      deps.counters.retries++
      deps.metrics.retried(module.name, 'immediate')
      recordFailedAttempt(processing, attempt.failure, failures.length - (state.failures?.length ?? 0), 'immediate-retry')
      signals.emit('message:failed', withFields(deliverySignal(module.name, env, clock.now()), { failure, next: 'immediate-retry' as const }))
    }
  }

  async function handleWithRetries(state: DeliveryState, env: Envelope, body: unknown, list: readonly Handler[], runs: readonly SagaRun[], failures: FailureRecord[], processing: Processing | undefined) {
    // The first attempt runs bare: p-retry's setup costs ~12 µs a call (measured with --cpu-prof on a
    // 100k drain), which the happy path should not pay. Retries, when needed, go through p-retry.
    try {
      return await invoke(state, env, body, list, runs, failures, processing)
    } catch (error) {
      // Not an attempt's failure (the message was handled already, the database is away): no retry.
      if (!(error instanceof AttemptFailed)) throw error
      recordAttemptFailure(state, env, error, failures, config.immediateRetries, processing)
      if (config.immediateRetries === 0 || isUnrecoverable(error.failure)) throw error
    }
    return pRetry(() => invoke(state, env, body, list, runs, failures, processing), {
      retries: config.immediateRetries - 1,
      minTimeout: 0,
      factor: 1,
      shouldRetry: ({ error }) => error instanceof AttemptFailed && !isUnrecoverable(error.failure),
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (error instanceof AttemptFailed) recordAttemptFailure(state, env, error, failures, retriesLeft, processing)
      },
    })
  }

  /**
   * A delivery that failed for good here: a delayed retry, or the error queue. Either envelope links back
   * to this attempt's span, so the next attempt (or a person's retry) points at the one that failed.
   */
  async function fail(state: DeliveryState, env: Envelope, error: unknown, failures: FailureRecord[], processing: Processing | undefined, startedAt: number): Promise<void> {
    const delayedDone = Number(env.headers[Headers.DelayedRetries] ?? '0')
    const action = decideAfterFailure(error, delayedDone, config)
    const failure = failures[0]!
    const attempt = failures.length - (state.failures?.length ?? 0)
    const linked = (next: Envelope) => (processing ? withLink(next, processing.context) : next)
    failProcessSpan(processing, error)
    if (action.kind === 'delayed-retry') {
      recordFailedAttempt(processing, error, attempt, 'delayed-retry', action.delayMs)
      await deps.failures.retryLater(state, linked(withDelayedRetryCount(env, action.round)), failures, action.delayMs)
      deps.counters.retries++
      deps.metrics.retried(module.name, 'delayed')
      signals.emit('message:failed', withFields(deliverySignal(module.name, env, clock.now()), { failure, next: 'delayed-retry' as const, delayMs: action.delayMs }))
      return
    }
    recordFailedAttempt(processing, error, attempt, 'error-queue')
    await deps.failures.giveUp(state, linked(withFailureHeaders(env, failure, module.name)), failures)
    deps.counters.failed++
    deps.metrics.movedToErrorQueue(module.name, failure.type, performance.now() - startedAt)
    signals.emit('message:failed', withFields(deliverySignal(module.name, env, clock.now()), { failure, next: 'error-queue' as const }))
    deps.log('error', `Moved ${env.type} to the error queue: ${failure.type}: ${failure.message}`, undefined, loggedMessage(env, processing))
  }

  // Hoisted, not a closure per message: only a message nothing here takes needs it.
  function failForNoHandler(state: DeliveryState, env: Envelope, failures: FailureRecord[], processing: Processing | undefined, startedAt: number): Promise<void> {
    const error = new NoHandlerError(env.type, module.name)
    failures.unshift(describeFailure(error, '(routing)', clock.now()))
    return fail(state, env, error, failures, processing, startedAt)
  }

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
