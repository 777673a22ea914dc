import type { Pool, PoolClient } from 'pg'
import { SchemaTooNewError } from '../../errors.js'

/**
 * The PostgreSQL persistence's tables: one schema per module (`<prefix>_<module>`), shared by every
 * instance of the module, plus `<prefix>` for what belongs to no module (the schema's version). Created
 * and migrated on start, in one transaction under an advisory lock, so instances starting at once
 * neither race nor fail: the first creates, the others find it done. docs/postgres.md describes the tables.
 */
export interface SchemaOptions {
  /** Names of the schemas: `<prefix>` and `<prefix>_<module>`. @default 'mailroom' */
  prefix?: string
  modules: readonly string[]
}

/** Each version's statements for one module's schema (`$schema` stands for it), in order; never edited once released. */
const moduleMigrations: readonly (readonly string[])[] = [
  [
    // The inbox: a message handled here, by any instance; a redelivery finds its id and is dropped.
    `CREATE TABLE IF NOT EXISTS $schema.inbox (
       message_id text PRIMARY KEY,
       handled_at timestamptz NOT NULL DEFAULT now()
     )`,
    // The outbox: what a handled message sent, committed with it; dispatched after the commit by any live instance.
    `CREATE TABLE IF NOT EXISTS $schema.outbox (
       id bigserial PRIMARY KEY,
       message_id text NOT NULL,
       envelope jsonb NOT NULL,
       destinations text[] NOT NULL,
       due_at timestamptz,
       created_at timestamptz NOT NULL DEFAULT now(),
       dispatched_at timestamptz
     )`,
    `CREATE INDEX IF NOT EXISTS outbox_pending ON $schema.outbox (id) WHERE dispatched_at IS NULL`,
    // Saga instances: one row each, its version checked on write so two instances never both change it.
    `CREATE TABLE IF NOT EXISTS $schema.sagas (
       saga text NOT NULL,
       correlation_id text NOT NULL,
       data jsonb NOT NULL,
       version bigint NOT NULL DEFAULT 1,
       PRIMARY KEY (saga, correlation_id)
     )`,
    // The module's tables (defineTable): documents as jsonb, in the order their keys were first put.
    `CREATE TABLE IF NOT EXISTS $schema.documents (
       table_name text NOT NULL,
       key text NOT NULL,
       doc jsonb NOT NULL,
       version bigint NOT NULL DEFAULT 1,
       seq bigserial,
       PRIMARY KEY (table_name, key)
     )`,
    `CREATE INDEX IF NOT EXISTS documents_order ON $schema.documents (table_name, seq)`,
  ],
  [
    // Which instance relays an outbox row, since when: another takes it over once that is old (the writer died).
    `ALTER TABLE $schema.outbox ADD COLUMN IF NOT EXISTS claimed_by text`,
    `ALTER TABLE $schema.outbox ADD COLUMN IF NOT EXISTS claimed_at timestamptz NOT NULL DEFAULT now()`,
    // A saga instance's identity: the id of the message that started it (its timeouts name it).
    `ALTER TABLE $schema.sagas ADD COLUMN IF NOT EXISTS instance text NOT NULL DEFAULT ''`,
    // Deliveries the module holds itself (with the embedded transport): a delayed retry, a failed message
    // in the error queue, one a person retried, one a person deleted (kept for people).
    `CREATE TABLE IF NOT EXISTS $schema.waiting (
       message_id text PRIMARY KEY,
       kind text NOT NULL CHECK (kind IN ('delayed', 'failed', 'retried', 'archived')),
       envelope jsonb NOT NULL,
       due_at timestamptz,
       failures jsonb NOT NULL DEFAULT '[]',
       since timestamptz NOT NULL DEFAULT now()
     )`,
    // The audit: one row per step of a conversation this module took part in.
    `CREATE TABLE IF NOT EXISTS $schema.audit (
       id bigserial PRIMARY KEY,
       conversation_id text NOT NULL,
       step jsonb NOT NULL,
       at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX IF NOT EXISTS audit_conversation ON $schema.audit (conversation_id)`,
    `CREATE INDEX IF NOT EXISTS inbox_age ON $schema.inbox (handled_at)`,
    // The messages a handled message sent that have not left yet: found again when its commit's answer was lost.
    `CREATE INDEX IF NOT EXISTS outbox_pending_by_cause ON $schema.outbox ((envelope->'headers'->>'mailroom.causation-id')) WHERE dispatched_at IS NULL`,
  ],
]

export const schemaVersion = moduleMigrations.length

/** A PostgreSQL identifier, quoted (module names may hold dashes). */
export function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export function moduleSchema(prefix: string, module: string): string {
  return `${prefix}_${module}`
}

/**
 * Creates or migrates the schemas of `modules` to `schemaVersion`. Safe to call from every instance at once:
 * the work is one transaction holding a transaction-level advisory lock. Returns the version each module was at.
 */
export async function migrate(pool: Pool, options: SchemaOptions): Promise<Record<string, number>> {
  const prefix = options.prefix ?? 'mailroom'
  const client: PoolClient = await pool.connect()
  try {
    await client.query('BEGIN')
    // One lock for the whole prefix: instances starting together wait here, then find the work done.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mailroom schema ${prefix}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${identifier(prefix)}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${identifier(prefix)}.schema_versions (module text PRIMARY KEY, version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())`)
    const before: Record<string, number> = {}
    for (const module of options.modules) {
      const schema = identifier(moduleSchema(prefix, module))
      const found = await client.query<{ version: number }>(`SELECT version FROM ${identifier(prefix)}.schema_versions WHERE module = $1`, [module])
      const from = found.rows[0]?.version ?? 0
      before[module] = from
      if (from > schemaVersion) throw new SchemaTooNewError(module, from, schemaVersion)
      if (from === schemaVersion) continue
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      for (const statements of moduleMigrations.slice(from)) {
        for (const statement of statements) await client.query(statement.replaceAll('$schema', schema))
      }
      await client.query(
        `INSERT INTO ${identifier(prefix)}.schema_versions (module, version) VALUES ($1, $2) ON CONFLICT (module) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()`,
        [module, schemaVersion],
      )
    }
    await client.query('COMMIT')
    return before
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
