import { afterAll, describe, it } from 'vitest'
import { takeTurn } from '../support/take-turns.js'
import { runScaledOut } from '../../scripts/chaos/scaled-out.js'
import { brokerAvailable, brokerUrl, deleteNamespace, testNamespace } from '../transport/support/broker.js'
import { expectEveryOrderOnce } from './support/scaled-out-checks.js'
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
    { timeout: 420_000 },
    async () => {
      // After any other whole shop on PostgreSQL has stopped: the server's connections are for one at a time.
      const release = await takeTurn('postgres-shops', 240_000)
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
      }).finally(release)
      const report = JSON.stringify({ ...summary, log: lines }, null, 1)
      expectEveryOrderOnce(summary, report, 200)
    },
  )
})
