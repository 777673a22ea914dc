import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { createBus, defineEvent, defineModule, handle, JournalWriteError, UnrecoverableError } from '../../src/bus/index.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { createFaultyFileSystem } from '../bus/support/faulty-file-system.js'
import { createFixtureModules, TakeOrder } from '../bus/support/shop-fixture.js'

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('when a handler commits (the transactional outbox)', () => {
  it('dispatches nothing the handler sent before its record is synced', async () => {
    const disk = createFaultyFileSystem()
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory', fileSystem: disk.fs })
    await bus.start()
    const held = disk.hold('orders')
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await held.entered
    await turns(20)
    expect(log.taken).toEqual(['o-1'])
    expect(log.charged).toEqual([])
    expect(log.notified).toEqual([])
    held.release()
    await bus.idle()
    expect(log.charged).toEqual(['o-1'])
    expect(log.notified).toEqual(['o-1'])
    await bus.stop()
  })

  it('frees the handler slot while the commit waits for its fsync, so the next message starts and shares it', async () => {
    const disk = createFaultyFileSystem()
    const Job = defineEvent('Job', Type.Object({ n: Type.Integer() }))
    const started: number[] = []
    const worker = defineModule({ name: 'worker', concurrency: 1, handlers: [handle(Job, async (message) => void started.push(message.n))] })
    const bus = createBus({ modules: [worker], storage: 'memory', fileSystem: disk.fs })
    await bus.start()
    await Promise.all([1, 2, 3].map((n) => bus.publish(Job, { n })))
    const held = disk.hold('worker')
    await held.entered
    await turns(20)
    // Concurrency 1, yet all three ran: each freed the slot once its record was appended.
    expect(started).toEqual([1, 2, 3])
    expect(bus.admin.module('worker')).toMatchObject({ inFlight: 0, handled: 0 })
    let idle = false
    void bus.idle().then(() => (idle = true))
    await turns(5)
    expect(idle).toBe(false)
    held.release()
    await bus.idle()
    expect(bus.admin.module('worker').handled).toBe(3)
    await bus.stop()
  })

  it('lets a handler destructure its context', async () => {
    const Asked = defineEvent('Asked', Type.Object({ n: Type.Integer() }))
    const Answered = defineEvent('Answered', Type.Object({ n: Type.Integer() }))
    const answers: number[] = []
    const asker = defineModule({
      name: 'asker',
      publishes: [Answered],
      handlers: [
        handle(Asked, async (message, { publish, log, messageId }) => {
          log.info({ messageId }, 'answering')
          await publish(Answered, { n: message.n * 2 })
        }),
      ],
    })
    const listener = defineModule({ name: 'listener', handlers: [handle(Answered, async (message) => void answers.push(message.n))] })
    const bus = createBus({ modules: [asker, listener], storage: 'memory' })
    await bus.start()
    await bus.publish(Asked, { n: 21 })
    await bus.idle()
    expect(answers).toEqual([42])
    expect(bus.admin.logs('asker').map((line) => line.text)).toContain('answering')
    await bus.stop()
  })

  it("keeps each module's latest 200 log lines, oldest first", async () => {
    const Noted = defineEvent('Noted', Type.Object({ n: Type.Integer() }))
    const scribe = defineModule({ name: 'scribe', handlers: [handle(Noted, async (message, context) => context.log.info(`line ${message.n}`))] })
    const bus = createBus({ modules: [scribe], storage: 'memory' })
    await bus.start()
    for (let n = 1; n <= 1_000; n++) await bus.publish(Noted, { n })
    await bus.idle()
    const lines = bus.admin.logs('scribe').map((line) => line.text)
    expect(lines).toHaveLength(200)
    expect(lines[0]).toBe('line 801')
    expect(lines.at(-1)).toBe('line 1000')
    await bus.stop()
  })

  it('drops what a handler sent when it then fails', async () => {
    const Announced = defineEvent('Announced', Type.Object({ n: Type.Integer() }))
    const Poked = defineEvent('Poked', Type.Object({ n: Type.Integer() }))
    const heard: number[] = []
    const speaker = defineModule({
      name: 'speaker',
      publishes: [Announced],
      handlers: [
        handle(Poked, async (message, context) => {
          await context.publish(Announced, { n: message.n })
          throw new UnrecoverableError('changed my mind')
        }),
      ],
    })
    const listener = defineModule({ name: 'listener', handlers: [handle(Announced, async (message) => void heard.push(message.n))] })
    const bus = createBus({ modules: [speaker, listener], storage: 'memory' })
    await bus.start()
    await bus.publish(Poked, { n: 1 })
    await bus.idle()
    expect(heard).toEqual([])
    expect(bus.admin.failedMessages().map((m) => m.type)).toEqual(['Poked'])
    await bus.stop()
  })
})

describe('when the disk fails', () => {
  it('rejects a send that could not be synced, and accepts sends again once the disk recovers', async () => {
    const disk = createFaultyFileSystem()
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory', fileSystem: disk.fs })
    await bus.start()
    disk.fail('_outside')
    const failure = await bus.send(TakeOrder, { orderId: 'lost', amount: 1 }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(JournalWriteError)
    expect(failure).toMatchObject({ code: 'MAILROOM_ERR_JOURNAL_WRITE_FAILED' })
    disk.heal('_outside')
    await bus.send(TakeOrder, { orderId: 'kept', amount: 1 })
    await bus.idle()
    expect(log.taken).toEqual(['kept'])
    await bus.stop()
    // The refused message is not on disk either: a restart does not bring it back.
    const again = createFixtureModules()
    const second = createBus({ modules: again.modules, routes: again.routes, storage: 'memory', fileSystem: disk.fs })
    expect((await second.start()).queued).toBe(0)
    await second.stop()
  })

  it('tries a delivery again later when its commit fails, and commits its output once', async () => {
    const disk = createFaultyFileSystem()
    const clock = createVirtualClock()
    const errors: string[] = []
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory', fileSystem: disk.fs, clock, writeErrorBackoffMs: 500 })
    bus.signals.on('bus:error', (event) => errors.push(event.during))
    await bus.start()
    disk.fail('payments')
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(log.charged).toEqual(['o-1'])
    expect(log.confirmed).toEqual([])
    expect(errors).toEqual(['committing ChargeCard in payments'])
    disk.heal('payments')
    clock.advance(500)
    await bus.idle()
    // The handler ran twice (at-least-once invocation); its reply was committed and delivered once.
    expect(log.charged).toEqual(['o-1', 'o-1'])
    expect(log.confirmed).toEqual(['o-1'])
    await bus.stop()
  })
})
