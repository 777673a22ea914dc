/**
 * `kill-after-commit-worker.ts <url> <prefix>`: Billing alone, on the PostgreSQL persistence and transport in
 * one database. It prints `ready` once it consumes its queue, and SIGKILLs itself the moment its handler's
 * transaction for ChargeOrder has committed: before anything after the commit could pass on what it sent.
 */
import { postgresTransport } from '../../../src/bus/postgres.js'
import { createPaymentsBus } from './payments-fixture.js'

const [url, prefix] = process.argv.slice(2) as [string, string]
const bus = createPaymentsBus({ url, prefix, runHere: ['billing'], transport: postgresTransport({ connectionString: url, prefix, pollEveryMs: 100 }) })
bus.signals.on('message:handled', ({ type }) => {
  if (type === 'ChargeOrder') process.kill(process.pid, 'SIGKILL')
})
await bus.start()
while (bus.admin.transport().state !== 'connected') await new Promise((resolve) => setTimeout(resolve, 20))
process.stdout.write('ready\n')
