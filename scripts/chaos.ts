/**
 * `npm run chaos` (`-- --orders 20000 --kills 10`): the whole shop under load, faults, kills and
 * restarts, then a reconciliation of every order. Exits 1 on any discrepancy. Loopback only.
 * `npm run chaos -- --scaled-out --orders 5000 --kills 8`: the shop as six processes on RabbitMQ and
 * PostgreSQL (RABBITMQ_URL, POSTGRES_URL), instances SIGKILLed, each Billing instance at least once;
 * `--postgres-outage proxy|restart` takes PostgreSQL away for 5 s halfway (a proxy cut, or a real restart of
 * the local cluster); `--kill-web` lets the web process be killed too; `--transport postgres` carries the
 * messages in PostgreSQL too (nothing but the database).
 * `npm run chaos -- --stream --orders 5000 --kills 5`: the shop with its own settings (buyer's remorse,
 * audit, Billing at 40/s), clients POSTing orders as fast as answers come, SIGKILLs mid-stream; then every
 * accepted order read back over HTTP until it shows shipped (`--clients`, `--settle-seconds`).
 */
import { parseArgs } from 'node:util'
import { runChaos } from './chaos/run-chaos.js'
import { runOrderStream } from './chaos/order-stream.js'
import { runScaledOutChaos } from './chaos/scaled-out-report.js'

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '2000' },
    kills: { type: 'string', default: '3' },
    rate: { type: 'string', default: '400' },
    'fault-rate': { type: 'string', default: '0.1' },
    'scaled-out': { type: 'boolean', default: false },
    'kill-web': { type: 'boolean', default: false },
    'postgres-outage': { type: 'string' },
    transport: { type: 'string', default: 'rabbitmq' },
    stream: { type: 'boolean', default: false },
    clients: { type: 'string', default: '8' },
    'settle-seconds': { type: 'string', default: '900' },
  },
})
const number = (name: string, raw: string, min: number, max: number) => {
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`Expected --${name} to be a number from ${min} to ${max}, got '${raw}'.`)
    process.exit(2)
  }
  return value
}
const orders = Math.round(number('orders', values.orders!, 1, 1_000_000))
const kills = Math.round(number('kills', values.kills!, 0, 1_000))
const ratePerSecond = number('rate', values.rate!, 1, 10_000)
const faultRate = number('fault-rate', values['fault-rate']!, 0, 0.5)

if (values.stream) {
  const clients = Math.round(number('clients', values.clients!, 1, 256))
  const settleTimeoutMs = number('settle-seconds', values['settle-seconds']!, 1, 86_400) * 1000
  const summary = await runOrderStream({ orders, kills, clients, settleTimeoutMs, log: (line) => console.log(line) })
  console.log(`
Order stream: ${summary.ok ? 'CLEAN' : 'DISCREPANCIES'}
  orders accepted (202)        ${summary.accepted}
  refused while down           ${summary.refused}
  kills survived               ${summary.kills}
  Billing's backlog at starts  ${summary.backlogsSeen.map((seen) => seen.billing?.total ?? 0).join(', ')}
  all shipped after            ${(summary.settleMs / 1000).toFixed(1)} s from the last order
  not shipped                  ${summary.notShipped.length}${summary.notShipped.length ? ` (${summary.notShipped.slice(0, 10).join(', ')})` : ''}
  shipped twice                ${summary.shippedTwice.length}
  orders billed                ${summary.billed}
  gateway: charged             ${summary.gateway.charged} (duplicate requests answered from memory: ${summary.gateway.duplicates})
  charged twice                ${summary.gateway.chargedTwice}
  duration                     ${(summary.durationMs / 1000).toFixed(1)} s`)
  process.exit(summary.ok ? 0 : 1)
}

const outage = values['postgres-outage']
if (outage !== undefined && outage !== 'proxy' && outage !== 'restart') {
  console.error(`Expected --postgres-outage to be 'proxy' or 'restart', got '${outage}'.`)
  process.exit(2)
}
if (values.transport !== 'rabbitmq' && values.transport !== 'postgres') {
  console.error(`Expected --transport to be 'rabbitmq' or 'postgres', got '${values.transport}'.`)
  process.exit(2)
}
if (values['scaled-out']) {
  const postgresOutage = outage ? { atOrder: Math.floor(orders / 2), downMs: 5_000, how: outage as 'proxy' | 'restart' } : undefined
  process.exit(await runScaledOutChaos({ orders, kills, ratePerSecond, killWeb: values['kill-web']!, overPostgresAlone: values.transport === 'postgres', ...(postgresOutage ? { postgresOutage } : {}) }))
}

const summary = await runChaos({ orders, kills, ratePerSecond, faultRate, drainTimeoutMs: 120_000, log: (line) => console.log(line) })
console.log(`
Chaos run: ${summary.ok ? 'CLEAN' : 'DISCREPANCIES'}
  orders accepted (202)        ${summary.accepted}
  refused while down           ${summary.refused}
  shipped                      ${summary.shipped}
  shipped without a 202        ${summary.shippedUnacknowledged} (killed mid-answer; allowed, at most once)
  shipped twice                ${summary.doubled.length}
  missing                      ${summary.missing.length}
  in the error queue           ${summary.failed.length}${summary.failed.length ? ` (${[...new Set(summary.failed.map((entry) => entry.reason))].join('; ')})` : ''}
  delayed-retry rounds         ${summary.delayedRetryRounds}
  module stops and starts      ${summary.moduleRestarts}
  kills survived               ${summary.kills}
  after a last restart, over HTTP:
    not in the order list      ${summary.seen.unlisted.length}
    not shown billed, shipped  ${summary.seen.wrongState.length}
    conversation incomplete    ${summary.seen.incompleteConversations.length}
    orders billed              ${summary.seen.billed}
    gateway: charged           ${summary.seen.gateway.charged} (duplicate requests answered from memory: ${summary.seen.gateway.duplicates})
    charged twice              ${summary.seen.gateway.chargedTwice}
  duration                     ${(summary.durationMs / 1000).toFixed(1)} s`)
if (!summary.ok) {
  if (summary.missing.length) console.log(`missing: ${summary.missing.slice(0, 20).join(', ')}`)
  if (summary.doubled.length) console.log(`doubled: ${summary.doubled.slice(0, 20).join(', ')}`)
  for (const [what, list] of [['unlisted', summary.seen.unlisted], ['wrong state', summary.seen.wrongState], ['conversation incomplete', summary.seen.incompleteConversations]] as const) {
    if (list.length) console.log(`${what}: ${list.slice(0, 20).join(', ')}`)
  }
  process.exit(1)
}
