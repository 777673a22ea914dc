import pg from 'pg'
import { Connection } from 'rabbitmq-client'
import { amqpNames } from '../../src/bus/amqp.js'
import { runScaledOut, type ScaledOutOptions } from './scaled-out.js'

/** `npm run chaos -- --scaled-out`: runs the scaled-out shop, prints what it found, cleans up; returns the exit code. */
export async function runScaledOutChaos(options: { orders: number; kills: number; ratePerSecond: number; killWeb: boolean; overPostgresAlone: boolean; postgresOutage?: ScaledOutOptions['postgresOutage'] }): Promise<number> {
  const rabbitUrl = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672'
  const brokerUrl = options.overPostgresAlone ? 'postgres' : rabbitUrl
  const postgresUrl = process.env.POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'
  const stamp = Date.now().toString(36)
  const namespace = `mailroom-chaos-${stamp}`
  const prefix = `mailroom_chaos_${stamp}`
  try {
    const { overPostgresAlone, ...run } = options
    const summary = await runScaledOut({ ...run, brokerUrl, postgresUrl, namespace, prefix, drainTimeoutMs: 180_000, log: (line) => console.log(line) })
    console.log(`
Scaled-out chaos run (${overPostgresAlone ? 'PostgreSQL alone' : 'RabbitMQ + PostgreSQL'}; sales, billing ×2, shipping ×2, web): ${summary.ok ? 'CLEAN' : 'DISCREPANCIES'}
  orders accepted (202)        ${summary.accepted}
  refused or cut off           ${summary.refused}
  shipped                      ${summary.shipped}
  shipped without a 202        ${summary.shippedUnacknowledged}${options.killWeb ? ' (allowed: the web killed mid-answer)' : ''}
  missing                      ${summary.missing.length}
  stopped by themselves        ${summary.exitedByThemselves.length}${summary.exitedByThemselves.length ? ` (${summary.exitedByThemselves.join(', ')})` : ''}
  in the error queue           ${summary.failed.length}${summary.failed.length ? ` (${[...new Set(summary.failed.map((entry) => entry.reason))].join('; ')})` : ''}
  billed twice (OrderBilled)   ${summary.billedTwice.length}
  shipped twice (OrderShipped) ${summary.shippedTwice.length}
  charged twice (gateway)      ${summary.chargedTwice.length}
  shipped but not charged      ${summary.notCharged.length}
  gateway repeats answered     ${summary.gatewayRepeats} (a redelivered charge with a known idempotency key)
  kills                        ${summary.kills.map((kill) => `${kill.instance}@${kill.atOrder}`).join(', ')}
  PostgreSQL away              ${summary.outage ? `${summary.outage.downMs} ms at order ${summary.outage.atOrder} (${summary.outage.how})` : 'no'}
  over HTTP (the web process):
    not in the order list      ${summary.seen.unlisted.length}
    not shown billed, shipped  ${summary.seen.wrongState.length}
    conversation incomplete    ${summary.seen.incompleteConversations.length}
  duration                     ${(summary.durationMs / 1000).toFixed(1)} s`)
    for (const [what, list] of Object.entries({ missing: summary.missing, 'billed twice': summary.billedTwice, 'shipped twice': summary.shippedTwice, 'charged twice': summary.chargedTwice })) {
      if (list.length > 0) console.log(`${what}: ${list.slice(0, 20).join(', ')}`)
    }
    return summary.ok ? 0 : 1
  } finally {
    if (process.env.MAILROOM_CHAOS_KEEP === '1') {
      console.log(`kept: schemas ${prefix}_*, broker namespace ${namespace} (MAILROOM_CHAOS_KEEP=1)`)
      return 1
    }
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 })
    const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2', [prefix, `${prefix}\\_%`])
    for (const { nspname } of rows) await pool.query(`DROP SCHEMA "${nspname}" CASCADE`)
    await pool.end()
    // The queues were in the schemas dropped above; only RabbitMQ's need deleting.
    if (!options.overPostgresAlone) {
      const connection = new Connection(rabbitUrl)
      const names = amqpNames(namespace)
      for (const queue of [...['sales', 'billing', 'shipping'].map(names.queueOf), names.error, names.undecodable]) await connection.queueDelete({ queue }).catch(() => undefined)
      for (const exchange of [names.events, names.status, names.control]) await connection.exchangeDelete({ exchange }).catch(() => undefined)
      await connection.close()
    }
  }
}
