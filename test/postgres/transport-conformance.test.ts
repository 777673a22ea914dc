import { afterAll, describe, it } from 'vitest'
import { postgresTransport } from '../../src/bus/postgres.js'
import { transportChecks } from '../../src/bus/testing/index.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
/** One prefix per check, the same for both of its processes and across its restart. */
const prefixes = new Map<string, string>()
afterAll(async () => {
  if (!available) return
  const pool = new Pool({ connectionString: postgresUrl, max: 1 })
  for (const prefix of prefixes.values()) await dropSchemas(pool, prefix)
  await pool.end()
})

describe.skipIf(!available)('the PostgreSQL transport passes the transport conformance checks', () => {
  it.each(transportChecks.map((candidate) => [candidate.name, candidate] as const))('%s', { timeout: 60_000 }, async (_name, candidate) => {
    await candidate.run({
      create: (check, role) => {
        if (!prefixes.has(check)) prefixes.set(check, testPrefix(`transport_${check}`))
        // A short poll: a deferred message is looked for at least this often.
        return postgresTransport({ connectionString: postgresUrl, prefix: prefixes.get(check)!, pollEveryMs: 200, console: role?.console ?? false })
      },
    })
  })
})
