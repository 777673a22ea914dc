import { Type } from '@sinclair/typebox'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { correlate, createBus, defineCommand, defineModule, defineSaga, type Bus } from '../../src/bus/index.js'
import { createAmqpTransport } from '../../src/bus/amqp.js'
import { postgresPersistence } from '../../src/bus/postgres.js'
import { brokerAvailable, brokerUrl, deleteNamespace, testNamespace } from '../transport/support/broker.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = (await postgresAvailable()) && (await brokerAvailable())
const pool = new Pool({ connectionString: postgresUrl, max: 2 })
const Watch = defineCommand('Watch', Type.Object({ id: Type.String() }))
const Unwatch = defineCommand('Unwatch', Type.Object({ id: Type.String() }))

const watching = defineSaga({
  name: 'watching',
  data: Type.Object({ id: Type.String() }),
  create: (id) => ({ id }),
  correlation: [correlate(Watch, ({ id }) => id), correlate(Unwatch, ({ id }) => id)],
  startedBy: [Watch],
  handlers: (on) => [on(Watch, async () => {}), on(Unwatch, async (_message, saga) => saga.markAsComplete())],
})

const buses: Bus[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop()
  for (const cleanup of cleanups.splice(0)) await cleanup()
})
afterAll(() => pool.end())

/** One instance of the `tracker` module: its own process as far as the bus knows, sharing the broker and the database. */
function instance(namespace: string, prefix: string): Bus {
  const bus = createBus({
    modules: [defineModule({ name: 'tracker', sagas: [watching] })],
    routes: { Watch: 'tracker', Unwatch: 'tracker' },
    transport: createAmqpTransport({ url: brokerUrl, namespace }),
    persistence: postgresPersistence({ connectionString: postgresUrl, prefix }),
  })
  buses.push(bus)
  return bus
}

describe.skipIf(!available)('when a module with sagas runs as two instances on PostgreSQL', () => {
  it("shows every instance's active sagas in each instance's console view, within moments", async () => {
    const namespace = testNamespace('sagas')
    const prefix = testPrefix('sagas')
    cleanups.push(() => deleteNamespace(namespace, ['tracker']), () => dropSchemas(pool, prefix))
    const [first, second] = [instance(namespace, prefix), instance(namespace, prefix)]
    await first!.start()
    await second!.start()

    // 1. Four sagas start; the broker hands each Watch to one instance or the other.
    for (const id of ['a', 'b', 'c', 'd']) await first!.send(Watch, { id })
    const stored = async () => Number((await pool.query(`SELECT count(*) AS n FROM "${prefix}_tracker".sagas`)).rows[0].n)
    await expect.poll(stored, { timeout: 10_000 }).toBe(4)
    // Each instance knows its own commits at once; the other's come from the database.
    const ids = (bus: Bus) => bus.admin.sagas('tracker').map((saga) => saga.id)
    await expect.poll(() => ids(first!), { timeout: 10_000 }).toEqual(['a', 'b', 'c', 'd'])
    await expect.poll(() => ids(second!), { timeout: 10_000 }).toEqual(['a', 'b', 'c', 'd'])
    expect(first!.admin.module('tracker')).toMatchObject({ activeSagas: 4, sagasShared: true })

    // 2. Two complete, whichever instance handles them.
    for (const id of ['a', 'c']) await second!.send(Unwatch, { id })
    await expect.poll(() => ids(first!), { timeout: 10_000 }).toEqual(['b', 'd'])
    await expect.poll(() => ids(second!), { timeout: 10_000 }).toEqual(['b', 'd'])
  })
})
