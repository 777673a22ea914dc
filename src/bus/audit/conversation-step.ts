import { Type } from '@sinclair/typebox'
import { defineInternalTable } from '../data/define-table.js'

/** What became of a message at a module, as the audit keeps it. */
export type StepOutcome = 'handled' | 'delayed-retry' | 'error-queue' | 'retried' | 'archived' | 'published'

/** The `to` of a `published` step: an event that no module subscribes to (the flow goes no further). */
export const noSubscribers = '(no subscribers)'

/** One step of a conversation: a message reaching a module, and what came of it. */
export interface ConversationStep {
  /** When the outcome was committed (ms since epoch, bus clock). */
  at: number
  /** The message id. */
  id: string
  type: string
  kind: string
  /** The module (or `outside`) that sent it. */
  from: string
  to: string
  /** `published`: an event the step's `from` published that no module subscribes to (`to` is `(no subscribers)`). */
  outcome: StepOutcome
  /** For a failure: the exception type and message. */
  detail?: string
  /** The sagas whose instances this step changed. */
  sagas?: string[]
  /** Attempts that failed before this outcome, newest first (at most 20 kept). */
  failures?: { at: number; detail: string }[]
}

const Step = Type.Object({
  at: Type.Number(),
  id: Type.String(),
  type: Type.String(),
  kind: Type.String(),
  from: Type.String(),
  to: Type.String(),
  outcome: Type.String(),
  detail: Type.Optional(Type.String()),
  sagas: Type.Optional(Type.Array(Type.String())),
  failures: Type.Optional(Type.Array(Type.Object({ at: Type.Number(), detail: Type.String() }))),
})
const AuditDocSchema = Type.Object({ steps: Type.Array(Step) })

/** A module's audit document of one conversation: the steps that happened at that module. */
export interface AuditDoc {
  steps: ConversationStep[]
}

/** The audit's table, one per module, keyed by conversation id (see ModuleData's audit). */
export const conversationsTable = defineInternalTable('@conversations', AuditDocSchema)
/**
 * Steps kept per conversation per module. Each step rewrites the conversation's document at that module,
 * so a long conversation costs the sum of its document sizes: past this many steps nothing more is
 * written (a runaway loop of messages in one conversation stops costing anything here).
 */
export const maxStepsPerConversation = 50
/** Failed attempts kept with a step. */
export const maxFailuresPerStep = 20

/**
 * The view key under which a module in another process reports its steps of a conversation (the
 * console asks for it like any view of the module, see transport-host.ts).
 */
export const conversationViewPrefix = '@conversation:'
