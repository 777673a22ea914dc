import pg from 'pg'
import { serviceAvailable } from '../../support/service.js'

/** The server the tests use: POSTGRES_URL, or the local one (trust auth, database `test`). */
export const postgresUrl = process.env.POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'

/** Whether PostgreSQL answers (see serviceAvailable). */
export const postgresAvailable = () =>
  serviceAvailable('PostgreSQL', postgresUrl, 5432, 'start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set POSTGRES_URL')

/** A prefix of schemas of its own for one test, so runs never see each other's tables. */
export function testPrefix(label: string): string {
  return `mailroom_test_${label}_${process.pid}_${Date.now().toString(36)}`.replaceAll('-', '_')
}

/** Drops every schema whose name starts with `prefix`. */
export async function dropSchemas(pool: pg.Pool, prefix: string): Promise<void> {
  const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2', [prefix, `${prefix}\\_%`])
  for (const { nspname } of rows) await pool.query(`DROP SCHEMA "${nspname}" CASCADE`)
}

export const { Pool } = pg
