import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const folder = new URL('../../src/bus/persistence/postgres/', import.meta.url)
/** A statement's opening words, as they appear in a string or template literal. */
const sql = /['`"]\s*(SELECT|INSERT INTO|UPDATE \S+ SET|DELETE FROM|LOCK TABLE|LISTEN|NOTIFY|CREATE|ALTER)\b/

/** The files of the PostgreSQL persistence holding SQL text, but the two that are meant to. */
export function filesWithSql(files: ReadonlyMap<string, string>): string[] {
  return [...files].filter(([name, text]) => name !== 'statements.ts' && name !== 'schema.ts' && sql.test(text)).map(([name]) => name)
}

describe('the PostgreSQL persistence', () => {
  it('keeps every SQL text in statements.ts (its migrations in schema.ts)', () => {
    const files = new Map(readdirSync(folder).filter((name) => name.endsWith('.ts')).map((name) => [name, readFileSync(new URL(name, folder), 'utf8')]))
    expect(files.size).toBeGreaterThan(10)
    expect(filesWithSql(files)).toEqual([])
  })

  it('finds SQL written elsewhere', () => {
    const files = new Map([
      ['relay.ts', 'await pool.query(`SELECT id FROM ${schema}.outbox`)'],
      ['outcomes.ts', "client.query('DELETE FROM x')"],
      ['statements.ts', 'return `SELECT 1`'],
      ['connections.ts', "await client.query('BEGIN')"],
    ])
    expect(filesWithSql(files)).toEqual(['relay.ts', 'outcomes.ts'])
  })
})
