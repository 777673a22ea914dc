import { Connection } from 'rabbitmq-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAmqpTransport } from '../../src/bus/amqp.js'
import { createBus, createMemoryFileSystem, type Bus } from '../../src/bus/index.js'
import { createFixtureLog, createFixtureModules, TakeOrder, type FixtureOptions } from '../bus/support/shop-fixture.js'
import { brokerAvailable, brokerUrl, deleteNamespace, queueLength, testNamespace } from './support/broker.js'

const modules = ['orders', 'payments', 'notifications']
const available = await brokerAvailable()
const started: Bus[] = []
const namespaces: string[] = []

afterEach(async () => {
  for (const bus of started.splice(0)) await bus.stop()
  for (const namespace of namespaces.splice(0)) await deleteNamespace(namespace, modules)
})

/** The fixture's three modules as two processes would run them: orders in one, payments and notifications in the other. */
function twoProcesses(namespace: string, log = createFixtureLog(), options: Omit<FixtureOptions, 'log'> = {}) {
  const make = (runHere: string[]) => {
    const fixture = createFixtureModules({ log, ...options })
    const bus = createBus({ modules: fixture.modules, routes: fixture.routes, storage: 'memory', runHere, transport: createAmqpTransport({ url: brokerUrl, namespace }) })
    started.push(bus)
    return bus
  }
  return { front: make(['orders']), back: make(['payments', 'notifications']), log }
}

const until = (condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) => vi.waitFor(async () => expect(await condition()).toBe(true), { timeout: timeoutMs, interval: 20 })

describe.skipIf(!available)('when modules talk over RabbitMQ', () => {
  /** Both processes on a namespace of their own (deleted after the tests), started back first. */
  async function startedPair(label: string) {
    const namespace = testNamespace(label)
    namespaces.push(namespace)
    const pair = twoProcesses(namespace)
    await pair.back.start()
    await pair.front.start()
    return { ...pair, namespace }
  }

  it('sends commands to the routed module, events to every subscriber, replies back, each handled once', async () => {
    const { front, back, log } = await startedPair('flow')
    for (let i = 0; i < 200; i++) await front.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await until(() => log.confirmed.length === 200 && log.notified.length === 200)
    await Promise.all([front.idle(), back.idle()])
    const sorted = (list: string[]) => [...list].sort()
    const expected = sorted(Array.from({ length: 200 }, (_, i) => `o-${i}`))
    expect(sorted(log.taken)).toEqual(expected)
    expect(sorted(log.charged)).toEqual(expected)
    expect(sorted(log.notified)).toEqual(expected)
    expect(sorted(log.confirmed)).toEqual(expected)
    expect(front.admin.transport()).toMatchObject({ kind: 'amqp', state: 'connected', unconfirmed: 0 })
    expect(await front.admin.brokerQueueLengths()).toEqual({ orders: 0, payments: 0, notifications: 0 })
  })

  it('keeps a stopped module’s messages in its broker queue, and hands them over once it starts', async () => {
    const { front, back, log, namespace } = await startedPair('stopped')
    back.admin.stopModule('notifications')
    for (let i = 0; i < 300; i++) await front.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await until(() => log.confirmed.length === 300)
    // What the module took ahead (its prefetch) waits here; the rest waits at the broker.
    await until(async () => (await queueLength(namespace, 'notifications')) > 0)
    expect(log.notified).toEqual([])
    back.admin.startModule('notifications')
    await until(() => log.notified.length === 300)
    expect(new Set(log.notified).size).toBe(300)
  })

  it('drops a redelivered message by its id, and parks a body it cannot read in the undecodable queue', async () => {
    const { front, back, log, namespace } = await startedPair('dedupe')
    await front.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await until(() => log.charged.length === 1)

    // The same ChargeCard again, as a broker redelivers after a lost ack: same message id.
    const connection = new Connection(brokerUrl)
    const publisher = connection.createPublisher({ confirm: true })
    const id = 'a1b2c3d4-0000-4000-8000-000000000001'
    const env = { id, type: 'ChargeCard', headers: { 'mailroom.message-id': id, 'mailroom.type': 'ChargeCard', 'mailroom.kind': 'command', 'mailroom.reply-to': 'orders', 'mailroom.sent-at': new Date().toISOString() }, body: { orderId: 'o-2', amount: 2 } }
    await publisher.send({ exchange: '', routingKey: `${namespace}.payments`, durable: true }, env)
    await publisher.send({ exchange: '', routingKey: `${namespace}.payments`, durable: true }, env)
    await publisher.send({ exchange: '', routingKey: `${namespace}.payments`, durable: true }, 'not an envelope')
    await until(async () => (await queueLength(namespace, 'undecodable')) === 1)
    await until(async () => (await queueLength(namespace, 'payments')) === 0)
    await back.idle()
    expect(log.charged).toEqual(['o-1', 'o-2'])
    await publisher.close()
    await connection.close()
  })

  it('retries later through a TTL queue at the broker, with the attempts so far, and then hands it over once', async () => {
    const namespace = testNamespace('delayed')
    namespaces.push(namespace)
    let attempts = 0
    const { front, back, log } = twoProcesses(namespace, createFixtureLog(), {
      recoverability: { immediateRetries: 0, delayedRetries: { count: 2, baseDelayMs: 300 } },
      ordersFault: (orderId) => {
        if (orderId === 'o-poison') throw new Error('never works')
        if (++attempts <= 2) throw new Error(`gateway hiccup ${attempts}`)
      },
    })
    const delayed: number[] = []
    front.signals.on('message:failed', (signal) => signal.next === 'delayed-retry' && delayed.push(signal.delayMs ?? 0))
    await back.start()
    await front.start()
    await front.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    // The first failure waits at the broker, in the 300 ms delay queue of the orders module.
    await until(async () => (await queueLength(namespace, 'delay.orders.300')) === 1, 5_000)
    await until(() => log.taken.length === 1)
    expect(delayed).toEqual([300, 600])
    expect(attempts).toBe(3)
    await until(() => log.confirmed.length === 1 && log.notified.length === 1)
    expect(await queueLength(namespace, 'delay.orders.600')).toBe(0)
    expect(await front.admin.brokerQueueLengths()).toEqual({ orders: 0, payments: 0, notifications: 0 })

    // One that never works ends in the broker's error queue with every attempt, across both delays.
    await front.send(TakeOrder, { orderId: 'o-poison', amount: 1 })
    await until(async () => (await queueLength(namespace, 'error')) === 1, 10_000)
    const connection = new Connection(brokerUrl)
    const parked = (await connection.basicGet({ queue: `${namespace}.error`, noAck: true }))!.body as { module: string; env: { headers: Record<string, string> }; failures: { message: string }[] }
    await connection.close()
    expect(parked.module).toBe('orders')
    expect(parked.failures.map((failure) => failure.message)).toEqual(['never works', 'never works', 'never works'])
    expect(parked.env.headers).toMatchObject({ 'mailroom.exception.message': 'never works', 'mailroom.delayed-retries': '2' })
  })

  it('keeps messages in the journal while the broker cannot be reached, and sends them once it can', async () => {
    const namespace = testNamespace('unreachable')
    namespaces.push(namespace)
    const log = createFixtureLog()
    const fileSystem = createMemoryFileSystem()
    // Nothing listens on port 1: the front process starts, accepts sends, and cannot forward them.
    const offline = createFixtureModules({ log })
    const cutOff = createBus({
      modules: offline.modules,
      routes: offline.routes,
      storage: 'memory',
      fileSystem,
      runHere: ['orders'],
      transport: createAmqpTransport({ url: 'amqp://guest:guest@127.0.0.1:1', namespace, connectTimeoutMs: 200, stopTimeoutMs: 200 }),
    })
    await cutOff.start()
    for (let i = 0; i < 20; i++) await cutOff.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await until(() => cutOff.admin.transport().unconfirmed === 20)
    expect(cutOff.admin.transport()).toMatchObject({ kind: 'amqp', state: 'connecting' })
    await cutOff.stop()
    expect(log.taken).toEqual([])

    // The same journals, now with the broker there: every message goes out and is handled once.
    const { back } = twoProcesses(namespace, log)
    const online = createFixtureModules({ log })
    const front = createBus({ modules: online.modules, routes: online.routes, storage: 'memory', fileSystem, runHere: ['orders'], transport: createAmqpTransport({ url: brokerUrl, namespace }) })
    started.push(front)
    await back.start()
    expect((await front.start()).queued).toBe(20)
    await until(() => log.notified.length === 20 && log.confirmed.length === 20)
    await Promise.all([front.idle(), back.idle()])
    expect([...log.taken].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `o-${i}`).sort())
  })

  it('lets a deferred message wait at the broker, in a TTL queue, and hands it over once due', async () => {
    const namespace = testNamespace('deferred')
    namespaces.push(namespace)
    const { front, back, log } = twoProcesses(namespace, createFixtureLog(), { remindAfterMs: 1_500 })
    await back.start()
    await front.start()
    await front.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    // Rounded up to whole seconds: the reminder waits in the orders module's 2 s queue.
    await until(async () => (await queueLength(namespace, 'delay.orders.2000')) === 1, 5_000)
    expect(log.reminded).toEqual([])
    await until(() => log.reminded.length === 1, 10_000)
    await Promise.all([front.idle(), back.idle()])
    expect(log.reminded).toEqual(['o-1'])
    expect(await queueLength(namespace, 'delay.orders.2000')).toBe(0)
  })
})
