import type { Bus, BusSignals, ConversationStep, DeliverySignal } from '../../bus/index.js'

export type FlowOutcome = 'handled' | 'retrying' | 'delayed-retry' | 'error-queue' | 'retried' | 'archived' | 'published'

/** One step of a conversation as the diagram draws it: the audit's step, or one failed attempt (`retrying`). */
export interface FlowStep extends Omit<ConversationStep, 'outcome' | 'failures'> {
  outcome: FlowOutcome
}

export interface ConversationLog {
  /** The conversation's steps in time order; undefined when no module here or elsewhere reported any. */
  get(conversationId: string): Promise<FlowStep[] | undefined>
  stop(): void
}

/**
 * A conversation's steps for the sequence diagram. Those at the modules of this process come from the
 * bus's audit (durable, committed with each outcome: they outlive a restart). Those at modules in other
 * processes (with a broker) come from the delivery signals they report, kept here in memory for the most
 * recent conversations, the oldest forgotten first.
 */
export function createConversationLog(bus: Bus, maxConversations = 2_000): ConversationLog {
  const local = new Set(bus.moduleNames)
  const conversations = new Map<string, FlowStep[]>()
  const add = (conversationId: string, step: FlowStep) => {
    if (local.has(step.to)) return
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
    async get(conversationId) {
      const audited = await bus.admin.conversation(conversationId)
      // The signals a module in another process reported while this console ran, for those whose audit has not answered.
      const answered = new Set(audited.map((step) => step.to))
      const reported = (conversations.get(conversationId) ?? []).filter((step) => !answered.has(step.to))
      const steps = [...flowOf(audited), ...reported]
      return steps.length === 0 ? undefined : steps.sort((a, b) => a.at - b.at)
    },
    stop() {
      bus.signals.off('message:handled', handled)
      bus.signals.off('message:failed', failed)
      bus.signals.off('message:retried', retried)
      bus.signals.off('message:archived', archived)
    },
  }
}

/**
 * The audit's steps as the diagram draws them: each failed attempt before an outcome becomes a `retrying`
 * step of its own (the attempt that led to a delayed retry or the error queue is that step itself).
 */
export function flowOf(steps: readonly ConversationStep[]): FlowStep[] {
  const flow: FlowStep[] = []
  const lastAt = new Map<string, number>()
  for (const step of steps) {
    const delivery = `${step.id} ${step.to}`
    const since = lastAt.get(delivery) ?? Number.NEGATIVE_INFINITY
    const failures = (step.failures ?? []).filter((failure) => failure.at > since).reverse()
    if (step.outcome !== 'handled') failures.pop()
    for (const failure of failures) flow.push({ at: failure.at, id: step.id, type: step.type, kind: step.kind, from: step.from, to: step.to, outcome: 'retrying', detail: failure.detail })
    const entry: FlowStep = { at: step.at, id: step.id, type: step.type, kind: step.kind, from: step.from, to: step.to, outcome: step.outcome }
    if (step.detail) entry.detail = step.detail
    if (step.sagas?.length) entry.sagas = step.sagas
    flow.push(entry)
    lastAt.set(delivery, step.at)
  }
  return flow
}
