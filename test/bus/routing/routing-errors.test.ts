import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import {
  BusNotStartedError,
  createBus,
  defineCommand,
  defineEvent,
  defineModule,
  DuplicateMessageTypeError,
  DuplicateModuleError,
  handle,
  InvalidMessageError,
  InvalidOptionError,
  InvalidRouteError,
  MessageKindMismatchError,
  ModulesUnreachableError,
  RouteNotFoundError,
  UnknownMessageTypeError,
} from '../../../src/bus/index.js'
import { ChargeCard, createFixtureModules, OrderTaken, TakeOrder } from '../support/shop-fixture.js'

async function startedFixture() {
  const { modules, routes } = createFixtureModules()
  const bus = createBus({ modules, routes, storage: 'memory' })
  await bus.start()
  return bus
}

describe('sending errors, thrown at the call before anything is written', () => {
  it('refuses a command without a route', async () => {
    const { modules } = createFixtureModules()
    const bus = createBus({ modules, routes: { TakeOrder: 'orders' }, storage: 'memory' })
    await bus.start()
    const before = bus.fileSystem.stats.appends
    expect(() => bus.send(ChargeCard, { orderId: 'o', amount: 1 })).toThrow(RouteNotFoundError)
    expect(() => bus.send(ChargeCard, { orderId: 'o', amount: 1 })).toThrow(/routes: \{ ChargeCard: '<module>' \}/)
    expect(bus.fileSystem.stats.appends).toBe(before)
    await bus.stop()
  })

  it('refuses a message type the bus does not know', async () => {
    const bus = await startedFixture()
    const Stranger = defineEvent('StrangerArrived', Type.Object({}))
    expect(() => bus.publish(Stranger, {})).toThrow(UnknownMessageTypeError)
    await bus.stop()
  })

  it('refuses a second definition that reuses a known name', async () => {
    const bus = await startedFixture()
    const Impostor = defineCommand('TakeOrder', Type.Object({ orderId: Type.String(), amount: Type.Number() }))
    expect(() => bus.send(Impostor, { orderId: 'o', amount: 1 })).toThrow(DuplicateMessageTypeError)
    await bus.stop()
  })

  it('refuses an invalid body and names the field', async () => {
    const bus = await startedFixture()
    const call = () => bus.send(TakeOrder, { orderId: 'o', amount: -1 })
    expect(call).toThrow(InvalidMessageError)
    expect(call).toThrow("Invalid 'TakeOrder' body: field '/amount'")
    try {
      call()
    } catch (error) {
      expect((error as InvalidMessageError).problems[0]).toMatchObject({ path: '/amount' })
    }
    await bus.stop()
  })

  it('refuses to publish a command or send an event', async () => {
    const bus = await startedFixture()
    expect(() => bus.publish(TakeOrder as never, { orderId: 'o', amount: 1 } as never)).toThrow(MessageKindMismatchError)
    expect(() => bus.send(OrderTaken as never, { orderId: 'o' } as never)).toThrow(MessageKindMismatchError)
    await bus.stop()
  })

  it('refuses to send before start and after stop', async () => {
    const { modules, routes } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    expect(() => bus.send(TakeOrder, { orderId: 'o', amount: 1 })).toThrow(BusNotStartedError)
    await bus.start()
    await bus.stop()
    expect(() => bus.send(TakeOrder, { orderId: 'o', amount: 1 })).toThrow(BusNotStartedError)
  })
})

describe('configuration errors, thrown by createBus and defineModule', () => {
  it('refuses a route to a module that does not exist or does not handle the command', () => {
    const { modules } = createFixtureModules()
    expect(() => createBus({ modules, routes: { TakeOrder: 'nowhere' }, storage: 'memory' })).toThrow(InvalidRouteError)
    expect(() => createBus({ modules, routes: { TakeOrder: 'payments' }, storage: 'memory' })).toThrow("module 'payments' has no handler for it")
  })

  it('refuses two modules with one name', () => {
    const { modules } = createFixtureModules()
    expect(() => createBus({ modules: [modules[0]!, modules[0]!], storage: 'memory' })).toThrow(DuplicateModuleError)
  })

  it.each([
    [{ concurrency: 0 }, 'Expected `modules.m.concurrency` to be an integer ≥ 1, got 0.'],
    [{ concurrency: 1.5 }, 'Expected `modules.m.concurrency` to be an integer ≥ 1, got 1.5.'],
    [{ recoverability: { immediateRetries: -1 } }, 'Expected `modules.m.recoverability.immediateRetries` to be an integer ≥ 0, got -1.'],
    [{ recoverability: { delayedRetries: { baseDelayMs: 'soon' } } }, "Expected `modules.m.recoverability.delayedRetries.baseDelayMs` to be an integer ≥ 0, got 'soon'."],
    [{ name: 'Sales' }, "Expected `name` to be a lower-case module name like sales or order-history, got 'Sales'."],
  ])('names the bad option %j', (override, message) => {
    const options = { name: 'm', handlers: [handle(TakeOrder, async () => {})], ...override } as never
    expect(() => defineModule(options)).toThrow(InvalidOptionError)
    expect(() => defineModule(options)).toThrow(message)
  })
})

describe('admin calls on a bus that is not running', () => {
  it('refuses a retry without losing the failed messages', async () => {
    const { modules, routes } = createFixtureModules({ recoverability: { immediateRetries: 0, delayedRetries: { count: 0 } }, ordersFault: () => { throw new Error('x') } })
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    const { messageId } = await bus.send(TakeOrder, { orderId: 'o', amount: 1 })
    await bus.idle()
    await bus.stop()
    await expect(bus.admin.retryFailed([messageId])).rejects.toThrow(BusNotStartedError)
    expect(bus.admin.failedMessages().map((m) => m.id)).toEqual([messageId])
  })
})

describe('createBus({ runHere })', () => {
  it('refuses, with the embedded transport, to leave out a module it could never reach, naming it', () => {
    const { modules, routes } = createFixtureModules()
    const names = modules.map((module) => module.name)
    const attempt = () => createBus({ modules, routes, storage: 'memory', runHere: names.slice(0, 1) })
    expect(attempt).toThrow(ModulesUnreachableError)
    expect(attempt).toThrow(new RegExp(`${names.slice(1).join(', ')} would never run`))
    try {
      attempt()
    } catch (error) {
      expect(error).toMatchObject({ code: 'MAILROOM_ERR_MODULE_UNREACHABLE', moduleNames: names.slice(1) })
    }
    // Every module here: nothing is left out.
    expect(() => createBus({ modules, routes, storage: 'memory', runHere: names })).not.toThrow()
  })

  it('names the modules it has when runHere names one it does not', () => {
    const { modules, routes } = createFixtureModules()
    expect(() => createBus({ modules, routes, storage: 'memory', runHere: ['warehouse'] })).toThrow(/No module named 'warehouse'/)
  })
})
