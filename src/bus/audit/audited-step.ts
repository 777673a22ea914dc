import type { Envelope } from '../messages/envelope.js'
import { Headers, OutsideOrigin } from '../messages/headers.js'
import type { FailureRecord, OutgoingEntry } from '../delivery/delivery.js'
import { maxFailuresPerStep, noSubscribers, type ConversationStep, type StepOutcome } from './conversation-step.js'

/** An audit step and the conversation it belongs to. */
export interface AuditedStep {
  conversationId: string
  /** The outcome's step, then one `published` step per event the handler published to nobody. */
  steps: ConversationStep[]
}

/** What an outcome's audit step says beside the outcome itself. */
export interface StepExtras {
  failures?: readonly FailureRecord[]
  sagas?: readonly string[]
  published?: readonly OutgoingEntry[]
}

/** The audit step an outcome of `env` at `module` stands for (any persistence keeps the same steps). */
export function auditedStep(module: string, env: Envelope, outcome: StepOutcome, at: number, extra?: StepExtras): AuditedStep {
  const headers = env.headers
  const step: ConversationStep = { at, id: env.id, type: env.type, kind: headers[Headers.Kind] ?? 'command', from: headers[Headers.OriginModule] ?? OutsideOrigin, to: module, outcome }
  const failures = extra?.failures
  if (failures && failures.length > 0) {
    step.failures = failures.slice(0, maxFailuresPerStep).map((failure) => ({ at: failure.at, detail: `${failure.type}: ${failure.message}` }))
    if (outcome !== 'handled') step.detail = step.failures[0]!.detail
  }
  if (extra?.sagas && extra.sagas.length > 0) step.sagas = [...extra.sagas]
  const steps = [step]
  // An event nobody subscribes to ends the flow here: the audit says so, so a diagram never seems to stop short.
  for (const entry of extra?.published ?? []) {
    if (entry.to.length === 0) steps.push({ at, id: entry.env.id, type: entry.env.type, kind: entry.env.headers[Headers.Kind] ?? 'event', from: module, to: noSubscribers, outcome: 'published' })
  }
  return { conversationId: headers[Headers.ConversationId] ?? env.id, steps }
}
