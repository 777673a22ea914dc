import { afterAll, describe, it } from 'vitest'
import { postgresPersistence } from '../../src/bus/postgres.js'
import { persistenceChecks } from '../../src/bus/testing/index.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 4 })
const prefixes = new Map<string, string>()
afterAll(async () => {
  if (available) for (const prefix of prefixes.values()) await dropSchemas(pool, prefix)
  await pool.end()
})

/** Schemas of its own per check; the same ones when the check opens the persistence again (a restart). */
const prefixOf = (check: string) => prefixes.get(check) ?? prefixes.set(check, testPrefix(`conformance${prefixes.size}`)).get(check)!

describe.skipIf(!available)('PostgreSQL passes the persistence conformance checks', () => {
  it.each(persistenceChecks.map((candidate) => [candidate.name, candidate] as const))('%s', async (_name, candidate) => {
    await candidate.run({ create: (check) => postgresPersistence({ connectionString: postgresUrl, prefix: prefixOf(check) }) })
  })
})
