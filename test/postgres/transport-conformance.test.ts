import { afterAll, describe, it } from 'vitest'
import { postgresPersistence, postgresTransport } from '../../src/bus/postgres.js'
import { transportChecks } from '../../src/bus/testing/index.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
/** One prefix per check (and per persistence), the same for all of its processes and across its restart. */
const prefixes = new Map<string, string>()
const prefixOf = (check: string) => {
  if (!prefixes.has(check)) prefixes.set(check, testPrefix(`tc_${check}`))
  return prefixes.get(check)!
}
afterAll(async () => {
  if (!available) return
  const pool = new Pool({ connectionString: postgresUrl, max: 1 })
  for (const prefix of prefixes.values()) await dropSchemas(pool, prefix)
  await pool.end()
})

// A short poll: a deferred message is looked for at least this often.
const transportOf = (check: string, console: boolean) => postgresTransport({ connectionString: postgresUrl, prefix: prefixOf(check), pollEveryMs: 200, console })

describe.skipIf(!available)('the PostgreSQL transport passes the transport conformance checks', () => {
  it.each(transportChecks.map((candidate) => [candidate.name, candidate] as const))('%s', { timeout: 60_000 }, async (_name, candidate) => {
    await candidate.run({ create: (check, role) => transportOf(check, role?.console ?? false) })
  })
})

describe.skipIf(!available)('…and so it does with the PostgreSQL persistence in the same database (sends and receives in the handler’s transaction)', () => {
  it.each(transportChecks.map((candidate) => [candidate.name, candidate] as const))('%s', { timeout: 60_000 }, async (_name, candidate) => {
    await candidate.run({
      create: (check, role) => transportOf(`same_${check}`, role?.console ?? false),
      persistence: (check) => postgresPersistence({ connectionString: postgresUrl, prefix: prefixOf(`same_${check}`), relayEveryMs: 50 }),
    })
  })
})
