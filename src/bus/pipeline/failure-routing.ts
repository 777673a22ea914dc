import type { DeliveryState, FailureRecord } from '../delivery/delivery.js'
import type { ModuleDefinition } from '../endpoint/module-definition.js'
import type { ModuleCounters } from '../endpoint/module-runtime.js'
import type { Clock } from '../clock.js'
import { NoHandlerError } from '../errors.js'
import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import { describeFailure, withDelayedRetryCount, withFailureHeaders } from '../recoverability/failure-headers.js'
import type { FailureSink } from '../recoverability/failure-sink.js'
import { decideAfterFailure } from '../recoverability/policy.js'
import { deliverySignal, withFields, type BusEmitter, type LogLevel } from '../signals.js'
import { loggedMessage, type LoggedMessage } from '../telemetry/bus-logger.js'
import type { BusMetrics } from '../telemetry/metrics.js'
import { withLink } from '../telemetry/trace-headers.js'
import { failProcessSpan, recordFailedAttempt, type Processing } from '../telemetry/tracing.js'

export interface FailureRoutingDeps {
  module: ModuleDefinition
  clock: Clock
  signals: BusEmitter
  counters: ModuleCounters
  metrics: BusMetrics
  /** Where a failed delivery goes: a delayed retry, or the error queue (see recoverability/failure-sink.ts). */
  failures: FailureSink
  log: (level: LogLevel, text: string, fields: Record<string, unknown> | undefined, message: LoggedMessage | undefined) => void
}

/** Where a delivery that failed for good here goes, as the pure recoverability policy decides: a delayed retry, or the error queue. */
export function createFailureRouting(deps: FailureRoutingDeps) {
  const { module, clock, signals } = deps
  const config = module.recoverability

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

  return { fail, failForNoHandler }
}
