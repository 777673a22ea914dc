import { olderThan } from './batched-statements.js'

/**
 * The persistence's own SQL (outside handlers' attempts, see attempt-transaction.ts), each text a function
 * of the module's schema (an identifier already quoted). Parameters are `$n`; each says what it takes.
 */

/**
 * Claims a module's pending outbox rows: `$1` this instance, `$2` the take-over age (ms), `$3` the batch.
 * `whose`: `all` every pending row (a start where this process is the only one), `unclaimed-or-stale`
 * rows nobody relays or whose claim is old, `others-stale` the same but never this instance's own.
 */
export function claimOutboxRows(schema: string, whose: 'all' | 'unclaimed-or-stale' | 'others-stale'): string {
  const stale = olderThan('claimed_at', '$2')
  const condition = whose === 'all' ? '' : whose === 'unclaimed-or-stale' ? `AND (claimed_by IS NULL OR ${stale})` : `AND (claimed_by IS NULL OR (claimed_by <> $1 AND ${stale}))`
  return `UPDATE ${schema}.outbox SET claimed_by = $1, claimed_at = now()
       WHERE id IN (SELECT id FROM ${schema}.outbox WHERE dispatched_at IS NULL ${condition} ORDER BY id ${whose === 'all' ? '' : 'LIMIT $3'} FOR UPDATE SKIP LOCKED)
       RETURNING id, envelope, destinations, due_at, created_at`
}

/** Claims the undispatched rows a message (`$2`, its id as causation) sent: `$1` this instance, `$3` the take-over age (ms). */
export function claimRowsSentBy(schema: string): string {
  return `UPDATE ${schema}.outbox SET claimed_by = $1, claimed_at = now()
         WHERE dispatched_at IS NULL AND (envelope->'headers'->>'mailroom.causation-id') = $2 AND (claimed_by IS NULL OR claimed_by = $1 OR ${olderThan('claimed_at', '$3')})
         RETURNING id, envelope, destinations, due_at, created_at`
}

/** Marks outbox rows (`$1`, their ids) as taken by a broker. */
export function markDispatched(schema: string): string {
  return `UPDATE ${schema}.outbox SET dispatched_at = now() WHERE id = ANY($1::bigint[])`
}

/** A delivery waiting for a time or a person: `$1` message id, `$2` kind, `$3` envelope, `$4` due, `$5` failures. */
export function upsertWaiting(schema: string): string {
  return `INSERT INTO ${schema}.waiting (message_id, kind, envelope, due_at, failures) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (message_id) DO UPDATE SET kind = EXCLUDED.kind, envelope = EXCLUDED.envelope, due_at = EXCLUDED.due_at, failures = EXCLUDED.failures, since = now()`
}

/** A failed delivery (`$1`) sent back to its queue by a person, with its new envelope (`$2`). */
export function markRetried(schema: string): string {
  return `UPDATE ${schema}.waiting SET kind = 'retried', envelope = $2, since = now() WHERE message_id = $1`
}

/** A failed delivery (`$1`) deleted by a person: kept, marked archived. */
export function markArchived(schema: string): string {
  return `UPDATE ${schema}.waiting SET kind = 'archived', since = now() WHERE message_id = $1`
}

/** A module's waiting deliveries, oldest first (archived ones are kept for people, not recovered). */
export function waitingRows(schema: string): string {
  return `SELECT message_id, kind, envelope, due_at, failures, since FROM ${schema}.waiting WHERE kind <> 'archived' ORDER BY since`
}

/** A module's active saga instances. */
export function activeSagas(schema: string): string {
  return `SELECT saga, correlation_id, instance, data FROM ${schema}.sagas`
}

/** A conversation's (`$1`) steps at a module, in the order written. */
export function conversationSteps(schema: string): string {
  return `SELECT step FROM ${schema}.audit WHERE conversation_id = $1 ORDER BY id`
}

/** Housekeeping: dispatched outbox rows older than `$1` ms. */
export function deleteDispatched(schema: string): string {
  return `DELETE FROM ${schema}.outbox WHERE ${olderThan('dispatched_at', '$1')}`
}

/** Housekeeping: inbox marks (deduplication) older than `$1` ms. */
export function deleteOldInboxMarks(schema: string): string {
  return `DELETE FROM ${schema}.inbox WHERE ${olderThan('handled_at', '$1')}`
}

/** Housekeeping: audit steps older than `$1` ms. */
export function deleteOldAuditSteps(schema: string): string {
  return `DELETE FROM ${schema}.audit WHERE ${olderThan('at', '$1')}`
}

/** Housekeeping: the audit of every conversation but the newest `$1` (by their first step here). */
export function deleteAuditBeyond(schema: string): string {
  return `DELETE FROM ${schema}.audit AS step USING (SELECT conversation_id FROM ${schema}.audit GROUP BY conversation_id ORDER BY min(id) DESC OFFSET $1) AS old WHERE step.conversation_id = old.conversation_id`
}
