import { createBus } from '../../src/bus/index.js'
import { createFixtureModules, TakeOrder } from '../../test/bus/support/shop-fixture.js'
const { modules, routes } = createFixtureModules()
const bus = createBus({ modules, routes, storage: 'memory', journal: { maxSegmentBytes: 64 * 1024 } })
await bus.start()
for (let round = 0; round < 8; round++) {
  await Promise.all(Array.from({ length: 500 }, (_, i) => bus.send(TakeOrder, { orderId: `o-${round}-${i}`, amount: 1 })))
  await bus.idle()
}
console.log('after idle', bus.admin.journalBytes())
await new Promise((r) => setTimeout(r, 200))
console.log('200ms later', bus.admin.journalBytes())
const fs = bus.fileSystem as any
for (const [path, chunks] of fs.files) { const size = (await fs.readFile(path)).length; console.log(path, size) }
await bus.compact()
console.log('after compact', bus.admin.journalBytes())
await bus.stop()
