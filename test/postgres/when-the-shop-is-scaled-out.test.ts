import { afterAll, describe, expect, it } from 'vitest'
import { runScaledOut } from '../../scripts/chaos/scaled-out.js'
import { brokerAvailable, brokerUrl, deleteNamespace, testNamespace } from '../transport/support/broker.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = (await postgresAvailable()) && (await brokerAvailable())
const namespace = testNamespace('scaled')
const prefix = testPrefix('scaled')
afterAll(async () => {
  if (!available) return
  const pool = new Pool({ connectionString: postgresUrl, max: 1 })
  await dropSchemas(pool, prefix)
  await pool.end()
  await deleteNamespace(namespace, ['sales', 'billing', 'shipping'])
})

describe.skipIf(!available)('when the shop is scaled out on RabbitMQ and PostgreSQL', () => {
  it(
    'ships, charges, bills and lists every order answered 202 exactly once while instances are killed (each Billing instance at least once) and PostgreSQL goes away for 2 s',
    { timeout: 180_000 },
    async () => {
      const lines: string[] = []
      const summary = await runScaledOut({
        orders: 400,
        kills: 3,
        ratePerSecond: 100,
        brokerUrl,
        postgresUrl,
        namespace,
        prefix,
        drainTimeoutMs: 90_000,
        log: (line) => lines.push(line),
        // Through a proxy that drops every connection and refuses new ones: a restart as the shop sees it,
        // without restarting the server other test files use at the same time.
        postgresOutage: { atOrder: 300, downMs: 2_000, how: 'proxy' },
      })
      const report = JSON.stringify({ ...summary, log: lines }, null, 1)
      expect(summary.kills.map((kill) => kill.instance).slice(0, 2).sort(), report).toEqual(['billing-1', 'billing-2'])
      // Orders placed while the database was away are refused (not 202): the others all go through.
      expect(summary.accepted, report).toBeGreaterThan(200)
      expect(summary.exitedByThemselves, report).toEqual([])
      expect(summary.missing, report).toEqual([])
      expect(summary.failed, report).toEqual([])
      expect(summary.billedTwice, report).toEqual([])
      expect(summary.shippedTwice, report).toEqual([])
      expect(summary.chargedTwice, report).toEqual([])
      expect(summary.notCharged, report).toEqual([])
      expect(summary.seen, report).toMatchObject({ unlisted: [], wrongState: [], incompleteConversations: [] })
      // None told it failed and gone through: a send whose commit's answer the outage cut off asks the database once it is back.
      expect(summary.shippedUnacknowledged, report).toBe(0)
      // The console (the web process) shows every module as running elsewhere, each of its processes reporting.
      expect(summary.console.map(({ name, location, reporting }) => `${name} ${location} ${reporting}`).sort(), report).toEqual(['billing elsewhere 2', 'sales elsewhere 1', 'shipping elsewhere 2'])
      expect(summary.ok, report).toBe(true)
    },
  )
})
