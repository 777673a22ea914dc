import type { Bus, BusSignals, DeliverySignal } from '../../bus/index.js'

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
  // A literal per step, fields added in place: object spread (`{ ...base, outcome }`) cost ~1–3 µs a
  // message here, and this runs for every message handled while the web app is up.
  const step = (signal: DeliverySignal, outcome: FlowOutcome): FlowStep => ({
    at: signal.at,
    id: signal.id,
    type: signal.type,
    kind: signal.kind,
    from: signal.origin,
    to: signal.module,
    outcome,
  })
  const handled = (s: BusSignals['message:handled']) => {
    const entry = step(s, 'handled')
    if (s.sagas?.length) entry.sagas = s.sagas
    add(s.conversationId, entry)
  }
  const failed = (s: BusSignals['message:failed']) => {
    const entry = step(s, s.next === 'immediate-retry' ? 'retrying' : s.next)
    entry.detail = `${s.failure.type}: ${s.failure.message}`
    add(s.conversationId, entry)
  }
  const retried = (s: BusSignals['message:retried']) => add(s.conversationId, step(s, 'retried'))
  const archived = (s: BusSignals['message:archived']) => add(s.conversationId, step(s, 'archived'))
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
