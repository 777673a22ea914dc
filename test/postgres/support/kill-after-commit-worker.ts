/**
 * `kill-after-commit-worker.ts <url> <prefix> <mode>`: the payments fixture on the PostgreSQL persistence and
 * transport in one database. It prints `ready` once it consumes its queues.
 * - mode `after-billing`: runs Billing alone, and SIGKILLs itself the moment its handler's transaction for
 *   ChargeOrder has committed, before anything after the commit could pass on what it sent.
 * - mode `in-shipping`: runs Billing and Shipping, leases of 1.5 s, and SIGKILLs itself inside Shipping's
 *   handler: OrderCharged, written by Billing's commit already claimed for this process's Shipping, dies with it.
 */
import { postgresTransport } from '../../../src/bus/postgres.js'
import { createPaymentsBus } from './payments-fixture.js'

const [url, prefix, mode] = process.argv.slice(2) as [string, string, 'after-billing' | 'in-shipping']
const kill = () => process.kill(process.pid, 'SIGKILL')
const bus = createPaymentsBus({
  url,
  prefix,
  runHere: mode === 'after-billing' ? ['billing'] : ['billing', 'shipping'],
  transport: postgresTransport({ connectionString: url, prefix, pollEveryMs: 100, ...(mode === 'in-shipping' ? { leaseMs: 1_500 } : {}) }),
  ...(mode === 'in-shipping' ? { beforeShipping: async () => void kill() } : {}),
})
if (mode === 'after-billing') {
  bus.signals.on('message:handled', ({ type }) => {
    if (type === 'ChargeOrder') kill()
  })
}
await bus.start()
while (bus.admin.transport().state !== 'connected') await new Promise((resolve) => setTimeout(resolve, 20))
process.stdout.write('ready\n')
