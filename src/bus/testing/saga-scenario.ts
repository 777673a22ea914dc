import { randomUUID } from 'node:crypto'
import { InvalidTestStepError, SagaCorrelationError, SagaDataInvalidError } from '../errors.js'
import type { BodyOf, MessageDefinition } from '../messages/define-message.js'
import { isMessageDefinition } from '../messages/define-message.js'
import type { SagaDefinition } from '../sagas/define-saga.js'
import type { SagaContext } from '../sagas/saga-context.js'
import { createRecordingContext, type RecordedMessage, type RecordingContext } from './recording-context.js'
import type { DocumentOf, TableDefinition } from '../data/define-table.js'
import { MemoryTables, type RecordedWrite } from './memory-tables.js'

export interface RequestedTimeout extends RecordedMessage {
  delayMs: number
  /** Scenario time (ms since the scenario began) when it falls due. */
  dueAtMs: number
}

/** What one message (or one timeout) did to the instance. */
export interface SagaStep {
  type: string
  /** `handled`; `started` (a new instance); `not-found` (discarded, or passed to the saga's notFound); `dropped` (a timeout of a completed instance). */
  outcome: 'handled' | 'started' | 'not-found' | 'dropped'
  context: RecordingContext
  timeouts: RequestedTimeout[]
  completed: boolean
}

export interface SagaScenario<Data> {
  /** Handles `body` as the bus would: validated, correlated, started or found, data checked after. */
  given<D extends MessageDefinition>(message: D, body: BodyOf<D>): Promise<SagaStep>
  /** Moves scenario time on, delivering every timeout that falls due (in due order) to its instance. */
  advanceTime(ms: number): Promise<SagaStep[]>
  /** The instance's data, for the one correlation id used so far (or the one named); undefined once completed. */
  data(correlationId?: string): Data | undefined
  /** Every step so far, oldest first. */
  readonly steps: readonly SagaStep[]
  /** Everything published, sent, replied and deferred over all steps. */
  readonly published: RecordedMessage[]
  readonly sent: RecordedMessage[]
  /** Every put and delete in the module's tables over all steps. */
  readonly written: RecordedWrite[]
  /** Puts documents into a module table before the messages come. */
  seed<T extends TableDefinition>(table: T, docs: Readonly<Record<string, DocumentOf<T>>>): void
  /** A module table's documents now, by key. */
  documents<T extends TableDefinition>(table: T): Record<string, DocumentOf<T>>
  /** Timeouts requested and not yet delivered. */
  readonly pendingTimeouts: readonly RequestedTimeout[]
  readonly nowMs: number
}

interface Pending extends RequestedTimeout {
  message: MessageDefinition
  correlationId: string
  instance: string
}

/**
 * Unit tests for a saga without a bus, a journal or a clock: give it messages, move time, look at its
 * data, what it sent and which timeouts it asked for (NServiceBus's saga scenario testing).
 */
export function sagaScenario<Data>(saga: SagaDefinition<Data>): SagaScenario<Data> {
  const instances = new Map<string, { instance: string; data: Data }>()
  const steps: SagaStep[] = []
  const published: RecordedMessage[] = []
  const sent: RecordedMessage[] = []
  let pending: Pending[] = []
  let nowMs = 0
  let lastCorrelationId: string | undefined
  const tables = new MemoryTables()

  async function run(message: MessageDefinition, body: unknown, correlationId: string, timeoutFor: string | undefined): Promise<SagaStep> {
    const context = createRecordingContext({ tables })
    const timeouts: RequestedTimeout[] = []
    const step = (outcome: SagaStep['outcome'], completed = false): SagaStep => {
      const done = { type: message.type, outcome, context, timeouts, completed }
      steps.push(done)
      published.push(...context.published)
      sent.push(...context.sent)
      return done
    }
    lastCorrelationId = correlationId
    const existing = instances.get(correlationId)
    if (timeoutFor !== undefined && existing?.instance !== timeoutFor) return step('dropped')
    const handler = timeoutFor !== undefined ? saga.timeouts.find((h) => h.message === message) : saga.handlers.find((h) => h.message === message)
    if (!handler) throw new InvalidTestStepError('message', `a message saga ${saga.name} handles`, message.type)
    if (!existing && !saga.startedBy.has(message.type)) {
      if (saga.notFound) await saga.notFound(body, { messageType: message.type, correlationId, log: context.log })
      return step('not-found')
    }
    const instance = existing?.instance ?? randomUUID()
    let completed = false
    const sagaContext: SagaContext<Data> = {
      messageId: context.messageId,
      headers: context.headers,
      log: context.log,
      send: context.send,
      publish: context.publish,
      reply: context.reply,
      defer: context.defer,
      table: context.table,
      correlationId,
      data: existing ? structuredClone(existing.data) : saga.create(correlationId),
      async requestTimeout(delayMs, timeout, timeoutBody) {
        if (!saga.timeouts.some((h) => h.message === timeout)) throw new InvalidTestStepError('requestTimeout(message)', `one of saga ${saga.name}'s timeouts`, isMessageDefinition(timeout) ? timeout.type : timeout)
        const requested = { type: timeout.type, body: timeout.validate(timeoutBody), delayMs, dueAtMs: nowMs + delayMs }
        timeouts.push(requested)
        pending.push({ ...requested, message: timeout, correlationId, instance })
      },
      markAsComplete() {
        completed = true
      },
    }
    await handler.fn(message.validate(body) as never, sagaContext)
    if (completed) {
      instances.delete(correlationId)
      return step(existing ? 'handled' : 'started', true)
    }
    const problem = saga.check(sagaContext.data)
    if (problem) throw new SagaDataInvalidError(saga.name, correlationId, problem)
    instances.set(correlationId, { instance, data: sagaContext.data })
    return step(existing ? 'handled' : 'started')
  }

  return {
    async given(message, body) {
      const correlate = saga.correlation.get(message.type)
      if (!correlate) throw new InvalidTestStepError('message', `a message saga ${saga.name} correlates`, message.type)
      const correlationId = correlate(message.validate(body))
      if (typeof correlationId !== 'string' || correlationId.length === 0) throw new SagaCorrelationError(saga.name, message.type, correlationId)
      return run(message, body, correlationId, undefined)
    },
    async advanceTime(ms) {
      const end = nowMs + ms
      const delivered: SagaStep[] = []
      for (;;) {
        const due = pending.filter((timeout) => timeout.dueAtMs <= end).sort((a, b) => a.dueAtMs - b.dueAtMs)[0]
        if (!due) break
        pending = pending.filter((timeout) => timeout !== due)
        nowMs = Math.max(nowMs, due.dueAtMs)
        delivered.push(await run(due.message, due.body, due.correlationId, due.instance))
      }
      nowMs = end
      return delivered
    },
    data(correlationId) {
      const id = correlationId ?? lastCorrelationId
      const found = id === undefined ? undefined : instances.get(id)
      return found ? structuredClone(found.data) : undefined
    },
    steps,
    published,
    sent,
    written: tables.written,
    seed: (table, docs) => tables.seed(table, docs),
    documents: (table) => tables.documents(table),
    get pendingTimeouts() {
      return pending.map(({ type, body, delayMs, dueAtMs }) => ({ type, body, delayMs, dueAtMs }))
    },
    get nowMs() {
      return nowMs
    },
  }
}
