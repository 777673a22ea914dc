/**
 * `npm run chaos` (`-- --orders 20000 --kills 10`): the whole shop under load, faults, kills and
 * restarts, then a reconciliation of every order. Exits 1 on any discrepancy. Loopback only.
 * `npm run chaos -- --scaled-out --orders 5000 --kills 8`: the shop as six processes on RabbitMQ and
 * PostgreSQL (RABBITMQ_URL, POSTGRES_URL), instances SIGKILLed, each Billing instance at least once;
 * `--postgres-outage proxy|restart` takes PostgreSQL away for 5 s halfway (a proxy cut, or a real restart of
 * the local cluster); `--kill-web` lets the web process be killed too.
 */
import { parseArgs } from 'node:util'
import { runChaos } from './chaos/run-chaos.js'
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

const outage = values['postgres-outage']
if (outage !== undefined && outage !== 'proxy' && outage !== 'restart') {
  console.error(`Expected --postgres-outage to be 'proxy' or 'restart', got '${outage}'.`)
  process.exit(2)
}
if (values['scaled-out']) {
  const postgresOutage = outage ? { atOrder: Math.floor(orders / 2), downMs: 5_000, how: outage as 'proxy' | 'restart' } : undefined
  process.exit(await runScaledOutChaos({ orders, kills, ratePerSecond, killWeb: values['kill-web']!, ...(postgresOutage ? { postgresOutage } : {}) }))
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
