import { SagaCorrelationError, SagaDataInvalidError } from '../errors.js'
import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import type { MessageContext } from '../pipeline/message-context.js'
import type { SagaDefinition, SagaHandler } from './define-saga.js'
import { SagaAttemptContext } from './saga-attempt-context.js'
import type { SagaChange, SagaInstance, SagaStore } from './saga-store.js'

/** One saga's part in handling one message. */
export interface SagaRun {
  saga: SagaDefinition
  handler: SagaHandler | undefined
  correlationId: string
  /** For a timeout: the instance that asked for it. */
  timeoutFor: string | undefined
  /** Read under the instance's lock, right before the handlers run. */
  committed: SagaInstance | undefined
  outcome: 'run' | 'start' | 'not-found' | 'dropped'
}

/**
 * Which of the module's sagas take part in a message, and for which instance. A saga's timeout goes to
 * its saga alone. Throws SagaCorrelationError for a message without a usable correlation id.
 */
export function planSagaRuns(sagasOfType: readonly SagaDefinition[], env: Envelope, body: unknown): SagaRun[] {
  const timeoutOf = env.headers[Headers.SagaName]
  const runs: SagaRun[] = []
  for (const saga of sagasOfType) {
    if (timeoutOf !== undefined) {
      if (saga.name !== timeoutOf) continue
      const handler = saga.timeouts.find((candidate) => candidate.message.type === env.type)
      runs.push({ saga, handler, correlationId: env.headers[Headers.SagaId] ?? '', timeoutFor: env.headers[Headers.SagaInstance] ?? '', committed: undefined, outcome: 'run' })
      continue
    }
    const handler = saga.handlers.find((candidate) => candidate.message.type === env.type)
    if (!handler) continue
    const correlationId = saga.correlation.get(env.type)!(body)
    if (typeof correlationId !== 'string' || correlationId.length === 0) throw new SagaCorrelationError(saga.name, env.type, correlationId)
    runs.push({ saga, handler, correlationId, timeoutFor: undefined, committed: undefined, outcome: 'run' })
  }
  return runs
}

/** Under the instances' locks: what the journal says about each instance now, and so what each run does. */
export function resolveSagaRuns(store: SagaStore, module: string, env: Envelope, runs: SagaRun[]): void {
  for (const run of runs) resolveSagaRun(run, env, store.get(module, run.saga.name, run.correlationId))
}

/** What one run does, given its instance as committed now (`committed`, read under its lock). */
export function resolveSagaRun(run: SagaRun, env: Envelope, committed: SagaInstance | undefined): void {
  run.committed = committed
  if (run.timeoutFor !== undefined) run.outcome = committed && committed.instance === run.timeoutFor ? 'run' : 'dropped'
  else if (committed) run.outcome = 'run'
  else run.outcome = run.saga.startedBy.has(env.type) ? 'start' : 'not-found'
}

/**
 * One attempt of one saga run: its handler on a copy of the committed data (a failed attempt's changes
 * are forgotten), then the data checked against the schema. Returns the change to commit, if any.
 */
export async function attemptSagaRun(run: SagaRun, env: Envelope, body: unknown, context: MessageContext): Promise<SagaChange | undefined> {
  const { saga, correlationId } = run
  if (run.outcome === 'dropped') {
    context.log.info(`Dropped timeout ${env.type} of saga ${saga.name} ${correlationId}: that instance has completed`)
    return undefined
  }
  if (run.outcome === 'not-found') {
    if (saga.notFound) await saga.notFound(body, { messageType: env.type, correlationId, log: context.log })
    else context.log.info(`No ${saga.name} saga for ${env.type} ${correlationId}: the message is discarded`)
    return undefined
  }
  const data = run.outcome === 'start' ? saga.create(correlationId) : structuredClone(run.committed!.data)
  const instance = run.committed?.instance ?? env.id
  const sagaContext = new SagaAttemptContext(context, saga, correlationId, instance, data)
  await run.handler!.fn(body as never, sagaContext)
  // An instance started and completed by the same message was never stored: nothing to record.
  if (sagaContext.completed) return run.committed ? { saga: saga.name, id: correlationId, done: true } : undefined
  const problem = saga.check(sagaContext.data)
  if (problem) throw new SagaDataInvalidError(saga.name, correlationId, problem)
  return { saga: saga.name, id: correlationId, instance, data: sagaContext.data }
}
