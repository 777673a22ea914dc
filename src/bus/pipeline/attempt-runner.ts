import pRetry from 'p-retry'
import type { Clock } from '../clock.js'
import type { Reservation } from '../data/module-tables.js'
import type { DeliveryState, FailureRecord, OutgoingEntry } from '../delivery/delivery.js'
import type { ModuleDefinition } from '../endpoint/module-definition.js'
import type { Handler } from '../endpoint/handle.js'
import type { ModuleCounters } from '../endpoint/module-runtime.js'
import { DataConflictError, PersistenceUnavailableError } from '../errors.js'
import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import { AlreadyHandledError, type HandledAudit, type SharedStore } from '../persistence/persistence.js'
import { describeFailure } from '../recoverability/failure-headers.js'
import { isUnrecoverable } from '../recoverability/policy.js'
import { attemptSagaRun, resolveSagaRun, type SagaRun } from '../sagas/saga-runs.js'
import type { SagaChange } from '../sagas/saga-store.js'
import { deliverySignal, withFields, type BusEmitter } from '../signals.js'
import type { BusMetrics } from '../telemetry/metrics.js'
import { recordFailedAttempt, type Processing } from '../telemetry/tracing.js'
import { runBehaviors, type Behavior, type IncomingMessage } from './behavior.js'
import { MessageContext, type ContextScope } from './message-context.js'

/** Carries a handler's error through p-retry, which would otherwise refuse to retry a TypeError. */
export class AttemptFailed extends Error {
  constructor(
    readonly failure: unknown,
    readonly handler: string,
  ) {
    super('handler attempt failed')
  }
}

export interface Attempt {
  outgoing: OutgoingEntry[]
  sagas: SagaChange[]
  /** The documents the attempt wrote, claimed until its record is synced. */
  data: Reservation | undefined
  /** With a database persistence the attempt committed in its own transaction: the deliveries it produced. */
  produced?: DeliveryState[]
}

/** The saga names whose instances an attempt ran or started (the audit's step names them). */
export function sagaNamesOf(runs: readonly SagaRun[]): string[] | undefined {
  return runs.length > 0 ? runs.filter((run) => run.outcome === 'run' || run.outcome === 'start').map((run) => run.saga.name) : undefined
}

/** What the audit's `handled` step says beside the outcome: the failed attempts before it, the sagas it changed. */
export function auditOf(sagaNames: readonly string[] | undefined, failures: readonly FailureRecord[]): HandledAudit | undefined {
  return sagaNames || failures.length > 0 ? { failures, ...(sagaNames ? { sagas: sagaNames } : {}) } : undefined
}

/**
 * How often one attempt runs its handlers again because another message changed a document it read
 * first, before the conflict counts as a failed attempt. Each run waits for the other writer's commit,
 * so a run only conflicts again if yet another writer got in first.
 */
const maxConflictRuns = 10

export interface AttemptRunnerDeps {
  module: ModuleDefinition
  behaviors: readonly Behavior[]
  persistence: SharedStore
  scope: ContextScope
  clock: Clock
  signals: BusEmitter
  counters: ModuleCounters
  metrics: BusMetrics
}

/**
 * One delivery's attempts: its handlers and saga runs inside the behaviors, in a transaction of its own
 * with a database persistence, run again on a data conflict, and again (immediate retries, p-retry) on a
 * handler's failure. Resolves with what the successful attempt sent and changed; rejects with AttemptFailed
 * once the immediate retries are spent (or the failure is unrecoverable).
 */
export function createAttemptRunner(deps: AttemptRunnerDeps) {
  const { module, behaviors, scope, clock, signals } = deps
  const transactions = deps.persistence.transactions
  const config = module.recoverability
  const incomingMessage = (env: Envelope, body: unknown): IncomingMessage => ({ type: env.type, kind: env.headers[Headers.Kind] === 'event' ? 'event' : 'command', body, messageId: env.id, headers: env.headers, module: module.name })

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

  return handleWithRetries
}
