import type { StepExtras } from '../audit/audited-step.js'
import type { StepOutcome } from '../audit/conversation-step.js'
import type { Envelope } from '../messages/envelope.js'
import type { Outcome } from '../persistence/persistence.js'
import type { JournalRecord } from './record.js'

/** What an outcome is written as: its journal record, and the audit step it stands for (about `env`). */
export interface OutcomeRecord {
  record: JournalRecord
  step: { env: Envelope | undefined; outcome: StepOutcome; extras?: StepExtras } | undefined
}

/**
 * The record of module's delivery `id` (its message `env` as the module has it) for each outcome but
 * `archived`, which copies the message to the archive first (outbox.ts). See record.ts for each kind.
 */
export function outcomeRecord(id: string, env: Envelope | undefined, outcome: Exclude<Outcome, { kind: 'archived' }>, t: number): OutcomeRecord {
  switch (outcome.kind) {
    case 'handled': {
      const { sent, sagas, audit } = outcome
      const record: JournalRecord = sagas && sagas.length > 0 ? { k: 'handled', t, id, msgs: sent, sagas } : { k: 'handled', t, id, msgs: sent }
      return { record, step: { env, outcome: 'handled', extras: { ...audit, published: sent } } }
    }
    case 'delayed':
      return { record: { k: 'delayed', t, id, at: outcome.at, env: outcome.env, failures: outcome.failures }, step: { env: outcome.env, outcome: 'delayed-retry', extras: { failures: outcome.failures } } }
    case 'failed':
      return { record: { k: 'failed', t, id, env: outcome.env, failures: outcome.failures }, step: { env: outcome.env, outcome: 'error-queue', extras: { failures: outcome.failures } } }
    case 'retried':
      return { record: { k: 'retried', t, id, env: outcome.env }, step: { env: outcome.env, outcome: 'retried' } }
    case 'parked':
      return { record: { k: 'parked', t, id }, step: undefined }
  }
}
