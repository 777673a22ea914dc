import { createBus } from './bus/index.js'
import billing from './modules/billing/index.js'
import sales from './modules/sales/index.js'
import shipping from './modules/shipping/index.js'
import { buildApp } from './web/app.js'

/** The composition root: the modules, the central routes table, the web app. */
const bus = createBus({
  modules: [sales, billing, shipping],
  routes: { PlaceOrder: 'sales' },
})

const report = await bus.start()
for (const torn of report.tornTails) {
  console.warn(`Dropped a torn record at the end of ${torn.file} (offset ${torn.offset}, ${torn.droppedBytes} bytes): ${torn.reason}`)
}
const app = buildApp({ bus })
const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)
const address = await app.listen({ host, port })
console.log(`Mailroom is running: ${address.replace('127.0.0.1', 'localhost')}  (data in ${bus.dataDir})`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    void app
      .close()
      .then(() => bus.stop())
      .then(() => process.exit(0))
  })
}
