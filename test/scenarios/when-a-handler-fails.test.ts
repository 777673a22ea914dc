import { describe, expect, it } from 'vitest'
import { createBus, MessageHeaders, UnrecoverableError, type BusSignals } from '../../src/bus/index.js'
import { createMemoryFileSystem } from '../../src/bus/files/memory-file-system.js'
import { encodeRecord } from '../../src/bus/outbox/record.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { createFixtureModules, TakeOrder } from '../bus/support/shop-fixture.js'

const recoverability = { immediateRetries: 2, delayedRetries: { count: 2, baseDelayMs: 1_000 } }

function failingSystem(fault: (orderId: string) => void, clock = createVirtualClock(), fileSystem = createMemoryFileSystem()) {
  const fixture = createFixtureModules({ recoverability, ordersFault: fault })
  const bus = createBus({ modules: fixture.modules, routes: fixture.routes, storage: 'memory', clock, fileSystem })
  const failures: BusSignals['message:failed'][] = []
  bus.signals.on('message:failed', (event) => failures.push(event))
  return { bus, clock, fileSystem, log: fixture.log, failures }
}

describe('when a handler fails', () => {
  it('retries at once and succeeds without any delay when the fault passes', async () => {
    let calls = 0
    const { bus, log, failures } = failingSystem(() => {
      if (++calls <= 2) throw new Error('flaky')
    })
    await bus.start()
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(calls).toBe(3)
    expect(log.taken).toEqual(['o-1'])
    expect(failures.map((f) => f.next)).toEqual(['immediate-retry', 'immediate-retry'])
    // TakeOrder, then the CardCharged reply.
    expect(bus.admin.module('orders')).toMatchObject({ handled: 2, retries: 2, failed: 0 })
    await bus.stop()
  })

  it('retries a TypeError too (p-retry alone would not)', async () => {
    let calls = 0
    const { bus, log } = failingSystem(() => {
      if (++calls === 1) throw new TypeError("Cannot read properties of undefined (reading 'x')")
    })
    await bus.start()
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(log.taken).toEqual(['o-1'])
    await bus.stop()
  })

  it('backs off exponentially after the immediate retries, then moves the message to the error queue with every attempt', async () => {
    let calls = 0
    const { bus, clock, log, failures } = failingSystem(() => {
      calls++
      throw new Error(`card declined #${calls}`)
    })
    await bus.start()
    const { messageId } = await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(calls).toBe(3)
    expect(failures.at(-1)).toMatchObject({ next: 'delayed-retry', delayMs: 1_000 })
    expect(bus.admin.module('orders')).toMatchObject({ delayed: 1, queueLength: 0 })

    clock.advance(999)
    await bus.idle()
    expect(calls).toBe(3)
    clock.advance(1)
    await bus.idle()
    expect(calls).toBe(6)
    expect(failures.at(-1)).toMatchObject({ next: 'delayed-retry', delayMs: 2_000 })

    clock.advance(2_000)
    await bus.idle()
    expect(calls).toBe(9)
    expect(failures.at(-1)).toMatchObject({ next: 'error-queue' })
    expect(log.taken).toEqual([])

    const [failed, ...others] = bus.admin.failedMessages()
    expect(others).toEqual([])
    expect(failed).toMatchObject({ key: `orders:${messageId}`, id: messageId, module: 'orders', type: 'TakeOrder' })
    expect(failed!.failures).toHaveLength(9)
    expect(failed!.failures[0]).toMatchObject({ type: 'Error', message: 'card declined #9', handler: 'handleTakeOrder' })
    expect(failed!.failures.at(-1)).toMatchObject({ message: 'card declined #1' })
    expect(failed!.envelope.headers).toMatchObject({
      [MessageHeaders.MessageId]: messageId,
      [MessageHeaders.ExceptionType]: 'Error',
      [MessageHeaders.ExceptionMessage]: 'card declined #9',
      [MessageHeaders.FailedModule]: 'orders',
      [MessageHeaders.FailedAt]: new Date(clock.now()).toISOString(),
    })
    expect(failed!.envelope.headers[MessageHeaders.ExceptionStack]).toContain('card declined #9')
    expect(bus.admin.module('orders')).toMatchObject({ failed: 1, errorQueueLength: 1, delayed: 0 })
    expect(bus.admin.retrySchedule('orders').text).toBe('2 immediate, then 1 s, 2 s; 9 attempts at most')
    await bus.stop()
  })

  it('sends an UnrecoverableError straight to the error queue, with no retry', async () => {
    let calls = 0
    const { bus, failures } = failingSystem(() => {
      calls++
      throw new UnrecoverableError('order is for a country we do not ship to')
    })
    await bus.start()
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(calls).toBe(1)
    expect(failures.map((f) => f.next)).toEqual(['error-queue'])
    expect(bus.admin.failedMessages()[0]!.failures).toHaveLength(1)
    await bus.stop()
  })

  it('sends a message that fails its schema straight to the error queue with the field named', async () => {
    const clock = createVirtualClock()
    const fileSystem = createMemoryFileSystem()
    // A sender with an older contract wrote this before the bus started: amount is a string.
    const env = { id: 'bad-1', type: 'TakeOrder', headers: { [MessageHeaders.MessageId]: 'bad-1' }, body: { orderId: 'o-9', amount: 'ten' } }
    fileSystem.files.set('/mailroom-memory/_outside/00000001.journal', [encodeRecord({ k: 'out', t: clock.now(), msgs: [{ to: ['orders'], env }] })])
    let calls = 0
    const { bus, failures } = failingSystem(() => calls++, clock, fileSystem)
    await bus.start()
    await bus.idle()
    expect(calls).toBe(0)
    expect(failures).toEqual([expect.objectContaining({ next: 'error-queue', id: 'bad-1' })])
    const [failed] = bus.admin.failedMessages()
    expect(failed!.failures).toEqual([expect.objectContaining({ handler: '(validation)', type: 'InvalidMessageError' })])
    expect(failed!.failures[0]!.message).toContain("field '/amount'")
    await bus.stop()
  })

  it('retries a failed message with its original id and headers plus a retry count, once even if asked twice', async () => {
    let broken = true
    const { bus, clock, log } = failingSystem(() => {
      if (broken) throw new Error('bug')
    })
    await bus.start()
    const { messageId, conversationId } = await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    clock.advance(1_000)
    await bus.idle()
    clock.advance(2_000)
    await bus.idle()
    expect(bus.admin.failedMessages()).toHaveLength(1)

    broken = false
    const handledHeaders: Record<string, string>[] = []
    bus.signals.on('message:handled', (event) => event.type === 'TakeOrder' && handledHeaders.push({ id: event.id, conversationId: event.conversationId }))
    const [first, second] = await Promise.all([bus.admin.retryFailed([messageId]), bus.admin.retryFailed([messageId])])
    expect(first).toEqual({ retried: [`orders:${messageId}`], notFound: [] })
    expect(second).toEqual({ retried: [], notFound: [messageId] })
    await bus.idle()
    expect(log.taken).toEqual(['o-1'])
    expect(log.notified).toEqual(['o-1'])
    expect(handledHeaders).toEqual([{ id: messageId, conversationId }])
    expect(log.takenHeaders[0]).toMatchObject({ [MessageHeaders.MessageId]: messageId, [MessageHeaders.ConversationId]: conversationId, [MessageHeaders.Retries]: '1' })
    expect(log.takenHeaders[0]).not.toHaveProperty(MessageHeaders.ExceptionMessage)
    expect(bus.admin.failedMessages()).toEqual([])
    await bus.stop()
  })

  it('archives a deleted failed message: gone from the list, kept on disk, still gone after a restart', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    const first = failingSystem(() => {
      throw new UnrecoverableError('no')
    }, clock, fileSystem)
    await first.bus.start()
    const a = await first.bus.send(TakeOrder, { orderId: 'o-a', amount: 1 })
    const b = await first.bus.send(TakeOrder, { orderId: 'o-b', amount: 1 })
    await first.bus.idle()
    expect(await first.bus.admin.deleteFailed([a.messageId, 'no-such-id'])).toEqual({ deleted: [`orders:${a.messageId}`], notFound: ['no-such-id'] })
    expect(first.bus.admin.failedMessages().map((m) => m.id)).toEqual([b.messageId])
    await first.bus.stop()
    const archive = Buffer.from(await fileSystem.readFile('/mailroom-memory/orders/archive/00000001.journal')).toString()
    expect(archive).toContain(a.messageId)

    const second = failingSystem(() => {}, clock, fileSystem)
    const report = await second.bus.start()
    expect(report.failed).toBe(1)
    expect(second.bus.admin.failedMessages().map((m) => m.id)).toEqual([b.messageId])
    await second.bus.idle()
    expect(second.log.taken).toEqual([])
    await second.bus.stop()
  })

  it('still makes a pending delayed retry after a restart', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    const first = failingSystem(() => {
      throw new Error('down')
    }, clock, fileSystem)
    await first.bus.start()
    await first.bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await first.bus.idle()
    expect(first.bus.admin.module('orders').delayed).toBe(1)
    await first.bus.stop()

    const second = failingSystem(() => {}, clock, fileSystem)
    const report = await second.bus.start()
    expect(report.delayed).toBe(1)
    await second.bus.idle()
    expect(second.log.taken).toEqual([])
    clock.advance(1_000)
    await second.bus.idle()
    expect(second.log.taken).toEqual(['o-1'])
    await second.bus.stop()
  })
})
