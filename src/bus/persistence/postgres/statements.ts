import type { OutgoingEntry } from '../../delivery/delivery.js'
import { literal } from './batched-statements.js'
import type { DeliverySource } from './outbox-rows.js'

/**
 * Every SQL text of the PostgreSQL persistence but its migrations (schema.ts), each a function of the
 * module's schema (an identifier already quoted). Parameters are `$n`; each says what it takes. Statements
 * sent in one round trip with others (runBatch) carry their values as escaped literals instead: the simple
 * query protocol takes no parameters.
 */

/** A condition: `column` is more than the milliseconds in parameter `param` ago. */
function olderThan(column: string, param: string): string {
  return `${column} < now() - make_interval(secs => ${param}::double precision / 1000)`
}

// --- The outbox ---

/**
 * The outgoing messages' rows (one per destination module: each is a delivery of its own, handled, failed or
 * forwarded apart), as one INSERT … RETURNING id, claimed by `claimedBy` (null: nobody yet, a relay takes
 * them). `dispatched`: written beside their queue rows, in the same transaction (nothing to relay; kept so
 * that a send whose answer was lost can tell it committed). Undefined when there are none.
 */
export function outboxInsert(schema: string, msgs: readonly OutgoingEntry[], claimedBy: string | null, dispatched = false): { statement: string; planned: { entry: OutgoingEntry; module: string }[] } | undefined {
  const rows: string[] = []
  const planned: { entry: OutgoingEntry; module: string }[] = []
  const claimer = claimedBy === null ? 'NULL' : literal(claimedBy)
  const dispatchedAt = dispatched ? 'now()' : 'NULL'
  for (const entry of msgs) {
    const id = literal(entry.env.id)
    const envelope = `${literal(JSON.stringify(entry.env))}::jsonb`
    const due = entry.at === undefined ? 'NULL' : `to_timestamp(${entry.at / 1000})`
    for (const module of entry.to) {
      rows.push(`(${id}, ${envelope}, ARRAY[${literal(module)}], ${due}, ${claimer}, ${dispatchedAt})`)
      planned.push({ entry, module })
    }
  }
  if (rows.length === 0) return undefined
  return { statement: `INSERT INTO ${schema}.outbox (message_id, envelope, destinations, due_at, claimed_by, dispatched_at) VALUES ${rows.join(', ')} RETURNING id`, planned }
}

/** NOTIFY on the outside's channel (its schema's name), sent with the rows of a caller's own transaction. */
export function notifyOutside(schema: string): string {
  return `NOTIFY ${schema}`
}

/** LISTEN on the outside's channel. */
export function listenOutside(channel: string): string {
  return `LISTEN ${channel}`
}

/** Waits for every INSERT into the outbox still under way, and keeps new ones out until the transaction ends (only one holder at a time). */
export function lockOutboxWrites(schema: string): string {
  return `LOCK TABLE ${schema}.outbox IN SHARE ROW EXCLUSIVE MODE`
}

/** The outbox rows of messages `$1` (their ids), dispatched or not, and who claims them. */
export function outboxRowsOf(schema: string): string {
  return `SELECT id, message_id, destinations[1] AS module, claimed_by, dispatched_at IS NOT NULL AS dispatched FROM ${schema}.outbox WHERE message_id = ANY($1::text[])`
}

/** Claims outbox rows `$1` (their ids) afresh for the instance that claims them already. */
export function renewClaims(schema: string): string {
  return `UPDATE ${schema}.outbox SET claimed_at = now() WHERE id = ANY($1::bigint[])`
}

/** The statement by which a delivery's message leaves the place that kept it: its outbox row is dispatched, or its waiting row goes. */
export function consumeSourceStatement(source: DeliverySource | undefined, messageId: string): string | undefined {
  if (source?.kind === 'outbox') return `UPDATE ${source.schema}.outbox SET dispatched_at = now() WHERE id = ${literal(source.rowId)}`
  if (source?.kind === 'waiting') return `DELETE FROM ${source.schema}.waiting WHERE message_id = ${literal(messageId)}`
  // A row of the transport's queue in this database: the transport's own statement deletes it.
  if (source?.kind === 'queue') return source.consume
  return undefined
}

// --- The inbox ---

/**
 * The inbox mark of message `messageId`. `ifNew`: ON CONFLICT DO NOTHING (no row back: handled already);
 * without it, a message handled already fails the mark, and the whole batch with it.
 */
export function inboxMark(schema: string, messageId: string, ifNew: boolean): string {
  return `INSERT INTO ${schema}.inbox (message_id) VALUES (${literal(messageId)})${ifNew ? ' ON CONFLICT (message_id) DO NOTHING' : ''}`
}

// --- Sagas ---

/** A saga instance (`$1` saga, `$2` correlation id), locked until the transaction ends. */
export function sagaForUpdate(schema: string): string {
  return `SELECT data, instance FROM ${schema}.sagas WHERE saga = $1 AND correlation_id = $2 FOR UPDATE`
}

/** A saga instance (`$1`, `$2`) completed. */
export function deleteSaga(schema: string): string {
  return `DELETE FROM ${schema}.sagas WHERE saga = $1 AND correlation_id = $2`
}

/** A saga instance's (`$1`, `$2`) new data (`$3`). */
export function updateSaga(schema: string): string {
  return `UPDATE ${schema}.sagas SET data = $3, version = version + 1 WHERE saga = $1 AND correlation_id = $2`
}

/** A new saga instance (`$1`, `$2`, data `$3`, instance `$4`); no row back if another instance started it first. */
export function insertSaga(schema: string): string {
  return `INSERT INTO ${schema}.sagas (saga, correlation_id, data, instance) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
}

// --- The modules' tables (documents; `documents` is the schema's documents table, quoted) ---

/** The documents table of a module's schema. */
export function documentsOf(schema: string): string {
  return `${schema}.documents`
}

/** A document (`$1` table, `$2` key); `forUpdate` locks its row until the transaction ends. */
export function selectDocument(documents: string, forUpdate: boolean): string {
  return `SELECT doc FROM ${documents} WHERE table_name = $1 AND key = $2${forUpdate ? ' FOR UPDATE' : ''}`
}

/** How many documents table `$1` holds. */
export function countDocuments(documents: string): string {
  return `SELECT count(*) AS n FROM ${documents} WHERE table_name = $1`
}

/** A page of table `$1`: `$2` rows, after position `$3` if `afterCursor`, in the order keys were first put (or newest first). */
export function listDocuments(documents: string, newest: boolean, afterCursor: boolean): string {
  const after = afterCursor ? `AND seq ${newest ? '<' : '>'} $3` : ''
  return `SELECT key, doc, seq FROM ${documents} WHERE table_name = $1 ${after} ORDER BY seq ${newest ? 'DESC' : 'ASC'} LIMIT $2`
}

/** A document (`$1` table, `$2` key, `$3` doc) read as absent, inserted; no row back if another attempt put it meanwhile. */
export function insertDocumentIfAbsent(documents: string): string {
  return `INSERT INTO ${documents} (table_name, key, doc) VALUES ($1, $2, $3) ON CONFLICT (table_name, key) DO NOTHING`
}

/** A document deleted, for a commit's batch. */
export function deleteDocument(documents: string, table: string, key: string): string {
  return `DELETE FROM ${documents} WHERE table_name = ${literal(table)} AND key = ${literal(key)}`
}

/** A document put (its JSON), for a commit's batch: the last writer's stays, the key keeps its place. */
export function upsertDocument(documents: string, table: string, key: string, json: string): string {
  return `INSERT INTO ${documents} AS d (table_name, key, doc) VALUES (${literal(table)}, ${literal(key)}, ${literal(json)}::jsonb) ON CONFLICT (table_name, key) DO UPDATE SET doc = EXCLUDED.doc, version = d.version + 1`
}

// --- The audit ---

/** The audit's rows for a conversation's steps (one per step, in order). */
export function auditInsert(schema: string, conversationId: string, steps: readonly unknown[]): string {
  return `INSERT INTO ${schema}.audit (conversation_id, step) VALUES ${steps.map((step) => `(${literal(conversationId)}, ${literal(JSON.stringify(step))}::jsonb)`).join(', ')}`
}

// --- Relaying, waiting deliveries and housekeeping ---

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
