import { literal } from '../../persistence/postgres/batched-statements.js'
import type { Envelope } from '../../messages/envelope.js'
import type { FailureRecord } from '../../delivery/delivery.js'

/**
 * Every SQL text of the PostgreSQL transport but its migrations (queue-schema.ts), each a function of its
 * schema (quoted). Parameters are `$n`; statements sent in one round trip with others carry escaped literals.
 */

/** One row to enqueue: for `queue` (a module), visible after `delayMs` (0: now). */
export interface QueuedRow {
  queue: string
  env: Envelope
  failures?: readonly FailureRecord[] | undefined
  delayMs: number
}

/**
 * The rows, as one INSERT, then one NOTIFY per queue with a row visible now (PostgreSQL sends them when the
 * statements commit, together: they run as one implicit transaction). `channel` is the transport's channel.
 */
export function enqueue(schema: string, channel: string, rows: readonly QueuedRow[]): string {
  return enqueueStatements(schema, channel, rows).join('; ')
}

/** The INSERT of the rows, and the NOTIFY of their queues if any row is visible now: for a caller's transaction. */
export function enqueueStatements(schema: string, channel: string, rows: readonly QueuedRow[]): string[] {
  const values = rows.map((row) => rowValues(row, row.delayMs > 0 ? `now() + make_interval(secs => ${row.delayMs / 1000})` : 'now()', 0, 'NULL'))
  const insert = `INSERT INTO ${schema}.messages (queue, message_id, envelope, failures, visible_at, deliveries, claimed_by) VALUES ${values.join(', ')}`
  const readyNow = [...new Set(rows.filter((row) => row.delayMs <= 0).map((row) => row.queue))]
  if (readyNow.length === 0) return [insert]
  return [insert, `SELECT ${readyNow.map((queue) => `pg_notify(${literal(channel)}, ${literal(queue)})`).join(', ')}`]
}

/**
 * The rows, written already claimed by consumer `consumerId` of this process for `leaseMs` (as if it had
 * claimed them the moment they committed), returning each one's id with its queue and message id.
 */
export function enqueueClaimed(schema: string, rows: readonly QueuedRow[], leaseMs: number, consumerId: string): string {
  const values = rows.map((row) => rowValues(row, `now() + make_interval(secs => ${leaseMs / 1000})`, 1, literal(consumerId)))
  return `INSERT INTO ${schema}.messages (queue, message_id, envelope, failures, visible_at, deliveries, claimed_by) VALUES ${values.join(', ')} RETURNING id, queue, message_id`
}

/** One row's VALUES, as escaped literals. */
function rowValues(row: QueuedRow, visible: string, deliveries: number, claimedBy: string): string {
  const failures = row.failures?.length ? `${literal(JSON.stringify(row.failures))}::jsonb` : 'NULL'
  return `(${literal(row.queue)}, ${literal(row.env.id)}, ${literal(JSON.stringify(row.env))}::jsonb, ${failures}, ${visible}, ${deliveries}, ${claimedBy})`
}

/**
 * Claims up to `$2` visible rows of queue `$1` for consumer `$4`, oldest first, skipping rows another consumer
 * is claiming: each stays invisible for `$3` ms (its lease), then comes back unless deleted.
 * Committed without waiting for the WAL's flush (synchronous_commit off, for this statement's transaction
 * only): a claim lost in a server crash only makes its rows visible again, which a lease allows anyway; the
 * handler's own commit, which waits, flushes it with everything before it.
 */
export function claim(schema: string): string {
  return `UPDATE ${schema}.messages AS m SET visible_at = now() + make_interval(secs => $3::double precision / 1000), deliveries = m.deliveries + 1, claimed_by = $4
    FROM (SELECT id FROM ${schema}.messages WHERE queue = $1 AND visible_at <= now() ORDER BY visible_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) AS ready,
      (SELECT set_config('synchronous_commit', 'off', true)) AS without_flush
    WHERE m.id = ready.id
    RETURNING m.id, m.envelope, m.failures`
}

/** Row `rowId` consumed in a handler's transaction (its persistence shares the database): deleted. */
export function consumeRow(schema: string, rowId: string): string {
  return `DELETE FROM ${schema}.messages WHERE id = ${literal(rowId)}`
}

/** Rows `$1` (their ids) done with: deleted. */
export function deleteRows(schema: string): string {
  return `DELETE FROM ${schema}.messages WHERE id = ANY($1::bigint[])`
}

/** Rows `$1` handed back (the consumer stopped, or its module could not take them): visible again now, to anyone. */
export function releaseRows(schema: string): string {
  return `UPDATE ${schema}.messages SET visible_at = now(), claimed_by = NULL WHERE id = ANY($1::bigint[])`
}

/** Every row consumer `$1` still claims (it is stopping), visible again now, to anyone. */
export function releaseClaimedBy(schema: string): string {
  return `UPDATE ${schema}.messages SET visible_at = now(), claimed_by = NULL WHERE claimed_by = $1`
}

/** In ms, how soon the next row of queue `$1` becomes visible (null: none waits). */
export function nextVisibleIn(schema: string): string {
  return `SELECT GREATEST(0, extract(epoch FROM min(visible_at) - now()) * 1000) AS ms FROM ${schema}.messages WHERE queue = $1`
}

/** How many rows wait in each queue, visible now (as a broker counts: not those being handled, nor those due later). */
export function queueLengths(schema: string): string {
  return `SELECT queue, count(*)::int AS n FROM ${schema}.messages WHERE visible_at <= now() GROUP BY queue`
}

/** A row that is not a Mailroom message (`$1` id), moved aside with its reason (`$2`). */
export function moveUndecodable(schema: string): string {
  return `WITH moved AS (DELETE FROM ${schema}.messages WHERE id = $1 RETURNING queue, envelope)
    INSERT INTO ${schema}.undecodable (queue, content, reason) SELECT queue, envelope, $2 FROM moved`
}

/** A message that failed for good at module `$1` (id `$2`, envelope `$3`, attempts `$4`), into the error queue. */
export function parkFailed(schema: string): string {
  return `INSERT INTO ${schema}.errors (queue, message_id, envelope, failures) VALUES ($1, $2, $3, $4)
    ON CONFLICT (queue, message_id) DO UPDATE SET envelope = EXCLUDED.envelope, failures = EXCLUDED.failures, parked_at = now()`
}

/** The error queue, newest first (at most `$1`). */
export function listErrors(schema: string): string {
  return `SELECT queue, message_id, envelope, failures, parked_at FROM ${schema}.errors ORDER BY parked_at DESC LIMIT $1`
}

/** One message (`$1` module, `$2` id) taken out of the error queue, for a retry or a delete. */
export function takeError(schema: string): string {
  return `DELETE FROM ${schema}.errors WHERE queue = $1 AND message_id = $2 RETURNING envelope, failures, parked_at`
}

/** The channel its NOTIFYs use: one per shop (prefix). */
export function channelOf(prefix: string): string {
  return `${prefix}_queues`
}

/** A process's report of its modules (`$1`), for the console. */
export function insertReport(schema: string): string {
  return `INSERT INTO ${schema}.reports (report) VALUES ($1)`
}

/** Reports after `$1` (an id), in order, or (with `$1` null) those of the last few seconds. */
export function newReports(schema: string): string {
  return `SELECT id, report FROM ${schema}.reports WHERE ($1::bigint IS NULL AND at > now() - interval '5 seconds') OR id > $1::bigint ORDER BY id LIMIT 1000`
}

/** Reports older than half a minute: nobody reads them any more. */
export function deleteOldReports(schema: string): string {
  return `DELETE FROM ${schema}.reports WHERE at < now() - interval '30 seconds'`
}

/** A command (`$2`, JSON) to every process, on the control channel `$1`. */
export function notifyCommand(): string {
  return 'SELECT pg_notify($1, $2)'
}

/** The console link's channel for commands: one per shop (prefix). */
export function controlChannelOf(prefix: string): string {
  return `${prefix}_control`
}
