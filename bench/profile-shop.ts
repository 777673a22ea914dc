/** `node --cpu-prof --import tsx bench/profile-shop.ts [orders]`: orders through Sales, Billing and Shipping (durable, limits off), for profiling. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PlaceOrder } from '../src/modules/sales/messages.js'
import { createShop } from '../src/shop.js'

const count = Number(process.argv[2] ?? 20_000)
const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-profile-'))
const shop = createShop({ dataDir, gatewayLimitPerSecond: undefined, billingMaxPerSecond: undefined, buyersRemorseMs: 0 })
await shop.start()
const started = performance.now()
let next = 0
await Promise.all(
  Array.from({ length: 100 }, async () => {
    while (next < count) await shop.bus.send(PlaceOrder, { orderId: `p-${next++}`, items: ['book'] })
  }),
)
await shop.bus.idle()
console.log(`${Math.round((count / (performance.now() - started)) * 1000)} orders/s through all modules`)
await shop.stop()
rmSync(dataDir, { recursive: true, force: true })
