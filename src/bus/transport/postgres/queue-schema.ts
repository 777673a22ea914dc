import type { Pool, PoolClient } from 'pg'
import { SchemaTooNewError } from '../../errors.js'
import { isConnectionError } from '../../persistence/postgres/database-errors.js'
import { identifier } from '../../persistence/postgres/schema.js'

/**
 * The PostgreSQL transport's tables, in the schema `<prefix>_queues` (one per shop: several shops, or test
 * runs, share a server under different prefixes). Created and migrated at start in one transaction under an
 * advisory lock, so processes starting together neither race nor fail. docs/postgres-transport.md describes them.
 */
const migrations: readonly (readonly string[])[] = [
  [
    // Every module's queue: a row per delivery (an event has one per subscriber, each with its own copy of
    // the message, so no body outlives the last of its deliveries). A claimed row is invisible until
    // `visible_at`: its consumer deletes it once the outcome is durable, or it comes back.
    `CREATE TABLE IF NOT EXISTS $schema.messages (
       id bigserial PRIMARY KEY,
       queue text NOT NULL,
       message_id text NOT NULL,
       envelope jsonb NOT NULL,
       failures jsonb,
       visible_at timestamptz NOT NULL DEFAULT now(),
       deliveries integer NOT NULL DEFAULT 0,
       claimed_by text
     )`,
    `CREATE INDEX IF NOT EXISTS messages_ready ON $schema.messages (queue, visible_at, id)`,
    // The error queue: messages that failed for good, with their attempts, until a person retries or deletes them.
    `CREATE TABLE IF NOT EXISTS $schema.errors (
       queue text NOT NULL,
       message_id text NOT NULL,
       envelope jsonb NOT NULL,
       failures jsonb NOT NULL,
       parked_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (queue, message_id)
     )`,
    // Rows whose content is not a Mailroom message (written by something else): kept with the reason, never dropped.
    `CREATE TABLE IF NOT EXISTS $schema.undecodable (
       id bigserial PRIMARY KEY,
       queue text NOT NULL,
       content jsonb,
       reason text NOT NULL,
       at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE TABLE IF NOT EXISTS $schema.schema_version (
       only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
       version integer NOT NULL
     )`,
  ],
  [
    // The console link's reports: each process's modules, once a second; the console reads the new ones.
    `CREATE TABLE IF NOT EXISTS $schema.reports (
       id bigserial PRIMARY KEY,
       report jsonb NOT NULL,
       at timestamptz NOT NULL DEFAULT now()
     )`,
  ],
]

export const queueSchemaVersion = migrations.length

/** The transport's schema, quoted. */
export function queueSchema(prefix: string): string {
  return identifier(`${prefix}_queues`)
}

/** Creates or migrates the transport's tables; refuses a schema a newer Mailroom wrote. */
export async function migrateQueues(pool: Pool, prefix: string): Promise<void> {
  const schema = queueSchema(prefix)
  const client: PoolClient = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mailroom queues ${prefix}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    const exists = await client.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_version'`, [`${prefix}_queues`])
    const from = exists.rowCount ? ((await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_version`)).rows[0]?.version ?? 0) : 0
    if (from > queueSchemaVersion) throw new SchemaTooNewError(`${prefix}_queues`, from, queueSchemaVersion, `the PostgreSQL transport's queues (${prefix}_queues)`)
    if (from < queueSchemaVersion) {
      for (const statements of migrations.slice(from)) {
        for (const statement of statements) await client.query(statement.replaceAll('$schema', schema))
      }
      await client.query(`INSERT INTO ${schema}.schema_version (version) VALUES ($1) ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version`, [queueSchemaVersion])
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}

/**
 * migrateQueues, tried again every second while the database cannot be reached (`onAway` hears each
 * failure), until it succeeds or `stopped()`. Rejects at once on anything else (queues a newer Mailroom wrote).
 */
export async function migrateUntilDone(pool: Pool, prefix: string, stopped: () => boolean, onAway: (error: unknown) => void): Promise<void> {
  for (;;) {
    try {
      return await migrateQueues(pool, prefix)
    } catch (error) {
      if (!isConnectionError(error) || stopped()) throw error
      onAway(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
}
