import type { Bus, BusSignals } from '../../bus/index.js'

export type FlowOutcome = 'handled' | 'retrying' | 'delayed-retry' | 'error-queue' | 'retried' | 'archived'

/** One step of a conversation: a message reaching a module, and what came of it. */
export interface FlowStep {
  at: number
  id: string
  type: string
  kind: string
  from: string
  to: string
  outcome: FlowOutcome
  detail?: string
  /** The sagas whose instances this step changed. */
  sagas?: string[]
}

export interface ConversationLog {
  get(conversationId: string): FlowStep[] | undefined
  stop(): void
}

/**
 * Keeps the message flow of the most recent conversations, from the bus's signals, for the sequence
 * diagram. In memory and bounded: the oldest conversations are forgotten first.
 */
export function createConversationLog(bus: Bus, maxConversations = 2_000): ConversationLog {
  const conversations = new Map<string, FlowStep[]>()
  const add = (conversationId: string, step: FlowStep) => {
    let steps = conversations.get(conversationId)
    if (!steps) {
      if (conversations.size >= maxConversations) conversations.delete(conversations.keys().next().value!)
      conversations.set(conversationId, (steps = []))
    }
    if (steps.length < 500) steps.push(step)
  }
  const base = (signal: { at: number; id: string; type: string; kind: string; origin: string; module: string }) => ({
    at: signal.at,
    id: signal.id,
    type: signal.type,
    kind: signal.kind,
    from: signal.origin,
    to: signal.module,
  })
  const handled = (s: BusSignals['message:handled']) => add(s.conversationId, s.sagas?.length ? { ...base(s), outcome: 'handled', sagas: s.sagas } : { ...base(s), outcome: 'handled' })
  const failed = (s: BusSignals['message:failed']) =>
    add(s.conversationId, {
      ...base(s),
      outcome: s.next === 'immediate-retry' ? 'retrying' : s.next,
      detail: `${s.failure.type}: ${s.failure.message}`,
    })
  const retried = (s: BusSignals['message:retried']) => add(s.conversationId, { ...base(s), outcome: 'retried' })
  const archived = (s: BusSignals['message:archived']) => add(s.conversationId, { ...base(s), outcome: 'archived' })
  bus.signals.on('message:handled', handled)
  bus.signals.on('message:failed', failed)
  bus.signals.on('message:retried', retried)
  bus.signals.on('message:archived', archived)
  return {
    get: (conversationId) => conversations.get(conversationId),
    stop() {
      bus.signals.off('message:handled', handled)
      bus.signals.off('message:failed', failed)
      bus.signals.off('message:retried', retried)
      bus.signals.off('message:archived', archived)
    },
  }
}
