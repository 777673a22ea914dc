/**
 * `payments-worker.ts <url> <prefix> <mode>`: the payments fixture's bus on PostgreSQL, for the test that
 * kills the process between the handler's SQL and its commit.
 * - mode `kill-after-sql` sends ChargeOrder o-kill and SIGKILLs itself the moment Billing's handler has run its
 *   SQL (the payment row is written in the open transaction, the event held), before the commit.
 * - mode `recover` starts on what that left, lets the pending ChargeOrder through, and prints `idle`.
 */
import { ChargeOrder, createPaymentsBus } from './payments-fixture.js'

const [url, prefix, mode] = process.argv.slice(2) as [string, string, 'kill-after-sql' | 'recover']
const bus = createPaymentsBus({
  url,
  prefix,
  afterSql: async () => {
    if (mode === 'kill-after-sql') process.kill(process.pid, 'SIGKILL')
  },
})
await bus.start()
if (mode === 'kill-after-sql') {
  await bus.send(ChargeOrder, { orderId: 'o-kill', amount: 9 })
  await bus.idle()
  process.stdout.write('not killed\n')
} else {
  await bus.idle()
  process.stdout.write('idle\n')
  await bus.stop()
}
