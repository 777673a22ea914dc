import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, handle } from '../../src/bus/index.js'
import { createFixtureModules, TakeOrder } from '../bus/support/shop-fixture.js'

describe('when a module is stopped', () => {
  it('keeps filling its queue, and works the backlog off in order of arrival once started', async () => {
    const { modules, routes, log } = createFixtureModules({ concurrency: 1 })
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    bus.admin.stopModule('notifications')
    for (let i = 1; i <= 5; i++) await bus.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await bus.idle()
    expect(log.charged).toHaveLength(5)
    expect(log.notified).toEqual([])
    expect(bus.admin.module('notifications')).toMatchObject({ running: false, queueLength: 5, inFlight: 0 })

    bus.admin.startModule('notifications')
    await bus.idle()
    expect(log.notified).toEqual(['o-1', 'o-2', 'o-3', 'o-4', 'o-5'])
    expect(bus.admin.module('notifications')).toMatchObject({ running: true, queueLength: 0, handled: 5 })
    await bus.stop()
  })

  it('stays stopped when a person stopped it before the bus started, until started again', async () => {
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    bus.admin.stopModule('notifications')
    await bus.start()
    for (let i = 1; i <= 3; i++) await bus.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await bus.idle()
    expect(log.notified).toEqual([])
    expect(bus.admin.module('notifications')).toMatchObject({ running: false, queueLength: 3 })
    bus.admin.startModule('notifications')
    await bus.idle()
    expect(log.notified).toEqual(['o-1', 'o-2', 'o-3'])
    await bus.stop()
  })

  it('keeps its backlog across a restart, in the same order', async () => {
    const { modules, routes } = createFixtureModules({ concurrency: 1 })
    const first = createBus({ modules, routes, storage: 'memory' })
    await first.start()
    first.admin.stopModule('notifications')
    for (let i = 1; i <= 5; i++) await first.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await first.idle()
    await first.stop()

    const again = createFixtureModules({ concurrency: 1 })
    const second = createBus({ modules: again.modules, routes: again.routes, storage: 'memory', fileSystem: first.fileSystem })
    const report = await second.start()
    expect(report.queued).toBe(5)
    await second.idle()
    expect(again.log.notified).toEqual(['o-1', 'o-2', 'o-3', 'o-4', 'o-5'])
    expect(again.log.taken).toEqual([])
    await second.stop()
  })

  it('shows the backlog it found when started, and how much of it is left, until it is worked off', async () => {
    const { modules, routes } = createFixtureModules({ concurrency: 1 })
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    expect(bus.admin.module('notifications').backlog).toBeUndefined()
    bus.admin.stopModule('notifications')
    for (let i = 1; i <= 4; i++) await bus.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await bus.idle()

    bus.admin.startModule('notifications')
    // Taken in arrival order, one at a time (concurrency 1): the first is on its way, three wait.
    expect(bus.admin.module('notifications').backlog).toMatchObject({ total: 4, remaining: 3 })
    expect(bus.admin.module('notifications').backlog?.doneAt).toBeUndefined()
    await bus.idle()
    const done = bus.admin.module('notifications').backlog!
    expect(done).toMatchObject({ total: 4, remaining: 0 })
    expect(done.doneAt).toBeGreaterThanOrEqual(done.startedAt)
    await bus.stop()
  })

  it('shows the backlog a restart found', async () => {
    const { modules, routes } = createFixtureModules({ concurrency: 1 })
    const first = createBus({ modules, routes, storage: 'memory' })
    await first.start()
    first.admin.stopModule('notifications')
    for (let i = 1; i <= 3; i++) await first.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await first.idle()
    await first.stop()

    const again = createFixtureModules({ concurrency: 1 })
    const second = createBus({ modules: again.modules, routes: again.routes, storage: 'memory', fileSystem: first.fileSystem })
    await second.start()
    expect(second.admin.module('notifications').backlog).toMatchObject({ total: 3 })
    expect(second.admin.module('orders').backlog).toBeUndefined()
    await second.idle()
    expect(second.admin.module('notifications').backlog).toMatchObject({ total: 3, remaining: 0 })
    await second.stop()
  })

  it('never handles more than `concurrency` messages of a module at once', async () => {
    const Work = defineCommand('DoWork', Type.Object({ n: Type.Integer() }))
    let active = 0
    let peak = 0
    const waiting: (() => void)[] = []
    const worker = defineModule({
      name: 'worker',
      concurrency: 3,
      handlers: [
        handle(Work, async () => {
          active++
          peak = Math.max(peak, active)
          await new Promise<void>((resolve) => waiting.push(resolve))
          active--
        }),
      ],
    })
    const bus = createBus({ modules: [worker], routes: { DoWork: 'worker' }, storage: 'memory' })
    await bus.start()
    await Promise.all(Array.from({ length: 10 }, (_, n) => bus.send(Work, { n })))
    // Release handlers one by one as they arrive; the queue drains three at a time.
    let released = 0
    while (released < 10) {
      await new Promise((resolve) => setImmediate(resolve))
      expect(bus.admin.module('worker').inFlight).toBeLessThanOrEqual(3)
      const next = waiting.shift()
      if (next) {
        next()
        released++
      }
    }
    await bus.idle()
    expect(peak).toBe(3)
    expect(bus.admin.module('worker').handled).toBe(10)
    await bus.stop()
  })

  it('works a backlog off over many turns of the event loop, so timers and HTTP are not starved', async () => {
    const Work = defineCommand('Work', Type.Object({ n: Type.Integer() }))
    let handled = 0
    const worker = defineModule({ name: 'worker', concurrency: 64, handlers: [handle(Work, async () => void handled++)] })
    const bus = createBus({ modules: [worker], routes: { Work: 'worker' }, storage: 'memory' })
    await bus.start()
    bus.admin.stopModule('worker')
    await Promise.all(Array.from({ length: 2_000 }, (_, n) => bus.send(Work, { n })))
    const perTurn: number[] = []
    let seen = 0
    let draining = true
    const probe = () => {
      perTurn.push(handled - seen)
      seen = handled
      if (draining) setImmediate(probe)
    }
    setImmediate(probe)
    bus.admin.startModule('worker')
    await bus.idle()
    draining = false
    expect(handled).toBe(2_000)
    // A module starts at most 16 deliveries per turn; the probe's turns interleave with its own.
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(64)
    expect(perTurn.length).toBeGreaterThan(2_000 / 64)
    await bus.stop()
  })

  it('lets bus.stop() finish and commit the messages in flight', async () => {
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    await Promise.all(Array.from({ length: 20 }, (_, i) => bus.send(TakeOrder, { orderId: `o-${i}`, amount: 1 })))
    await bus.stop()
    const again = createFixtureModules()
    const second = createBus({ modules: again.modules, routes: again.routes, storage: 'memory', fileSystem: bus.fileSystem })
    await second.start()
    await second.idle()
    // Whatever the first bus handled is not handled again; the rest is.
    expect([...log.taken, ...again.log.taken].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `o-${i}`).sort())
    await second.stop()
  })
})
