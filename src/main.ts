import { ConfigError, readConfig } from './config.js'
import { createShop } from './shop.js'
import { buildApp } from './web/app.js'

/** The composition root: configuration, the shop's modules on one bus, the console. */
let config
try {
  config = readConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message)
    process.exit(2)
  }
  throw error
}

const shop = createShop({
  ...(config.dataDir ? { dataDir: config.dataDir } : {}),
  recoverability: config.recoverability,
  gatewayLimitPerSecond: config.gatewayLimitPerSecond,
  billingMaxPerSecond: config.billingMaxPerSecond,
  buyersRemorseMs: config.buyersRemorseMs,
  billingWaitMs: config.billingWaitMs,
  journal: { compaction: config.compaction },
})
const report = await shop.bus.start()
for (const torn of report.tornTails) {
  console.warn(`Dropped a torn record at the end of ${torn.file} (offset ${torn.offset}, ${torn.droppedBytes} bytes): ${torn.reason}`)
}
if (report.records > 0) console.log(`Recovered ${report.queued} queued, ${report.delayed} delayed and ${report.failed} failed messages from ${shop.bus.dataDir}`)

const app = await buildApp({ bus: shop.bus, order: shop.order })
const address = await app.listen({ host: config.host, port: config.port })
console.log(`Mailroom is running: ${address.replace('127.0.0.1', 'localhost')}  (data in ${shop.bus.dataDir})`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    void app
      .close()
      .then(() => shop.bus.stop())
      .then(() => process.exit(0))
  })
}
