import type pg from 'pg'

/**
 * The simulated gateway's memory of idempotency keys, kept in PostgreSQL when Billing runs as several
 * instances: the gateway is one outside service, so every instance's charges must be seen by all (a key
 * charged by one instance is a duplicate at another). Its own table, written in its own statements: never
 * in a handler's transaction, just as a real gateway's memory is not.
 */
export interface SharedGatewayMemory {
  /** Takes the charge unless the key was charged before; then answers with that charge. */
  claim(key: string, orderId: string, chargeId: string): Promise<{ chargeId: string; duplicate: boolean }>
  /** How many charges the gateway took in all (every instance). */
  charged(): Promise<number>
}

export async function openSharedGatewayMemory(pool: pg.Pool, schema: string): Promise<SharedGatewayMemory> {
  const table = `"${schema.replaceAll('"', '""')}".charges`
  const client = await pool.connect()
  try {
    // Instances starting at once: one creates, the others wait and find it done.
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mailroom gateway ${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', '""')}"`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, order_id text NOT NULL, charge_id text NOT NULL, repeats integer NOT NULL DEFAULT 0, at timestamptz NOT NULL DEFAULT now())`)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
  return {
    async claim(key, orderId, chargeId) {
      const { rows } = await pool.query<{ charge_id: string; repeats: number }>(
        `INSERT INTO ${table} AS c (key, order_id, charge_id) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET repeats = c.repeats + 1 RETURNING charge_id, repeats`,
        [key, orderId, chargeId],
      )
      const row = rows[0]!
      return { chargeId: row.charge_id, duplicate: row.repeats > 0 }
    },
    async charged() {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)
      return Number(rows[0]!.n)
    },
  }
}
