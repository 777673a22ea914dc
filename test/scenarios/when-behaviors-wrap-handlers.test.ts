import { Type } from '@sinclair/typebox'
import { afterEach, describe, expect, it } from 'vitest'
import { createBus, defineBehavior, defineCommand, defineEvent, defineModule, handle, InvalidBehaviorError, type Behavior, type Bus } from '../../src/bus/index.js'

const PlaceOrder = defineCommand('PlaceOrder', Type.Object({ orderId: Type.String() }))
const OrderAudited = defineEvent('OrderAudited', Type.Object({ orderId: Type.String() }))

let bus: Bus | undefined
afterEach(async () => {
  await bus?.stop()
  bus = undefined
})

/** Sales handles PlaceOrder (after `failures` failed attempts); Audit takes what a behavior publishes. */
async function start(options: { busBehaviors?: Behavior[]; salesBehaviors?: Behavior[]; failures?: number; steps: string[] }) {
  let failuresLeft = options.failures ?? 0
  const sales = defineModule({
    name: 'sales',
    behaviors: options.salesBehaviors ?? [],
    publishes: [OrderAudited],
    recoverability: { immediateRetries: 2, delayedRetries: { count: 0 } },
    handlers: [
      handle(PlaceOrder, async (order) => {
        options.steps.push(`handler ${order.orderId}`)
        if (failuresLeft-- > 0) throw new Error('the database blinked')
      }),
    ],
  })
  const audited: string[] = []
  const audit = defineModule({ name: 'audit', handlers: [handle(OrderAudited, async ({ orderId }) => void audited.push(orderId))] })
  bus = createBus({ storage: 'memory', modules: [sales, audit], routes: { PlaceOrder: 'sales' }, behaviors: options.busBehaviors ?? [] })
  await bus.start()
  return { bus, audited }
}

const tracing = (name: string, steps: string[]) =>
  defineBehavior({
    name,
    before: (message) => void steps.push(`${name} before ${message.type} in ${message.module}`),
    after: () => void steps.push(`${name} after`),
  })

describe('when behaviors wrap handlers', () => {
  it("runs the bus's behaviors around the module's, around the handlers, on every attempt", async () => {
    const steps: string[] = []
    const { bus } = await start({ busBehaviors: [tracing('outer', steps)], salesBehaviors: [tracing('inner', steps)], failures: 1, steps })
    await bus.send(PlaceOrder, { orderId: 'o-1' })
    await bus.idle()
    const attempt = ['outer before PlaceOrder in sales', 'inner before PlaceOrder in sales', 'handler o-1']
    // The first attempt fails in the handler: no `after`; the retry runs the whole chain again.
    expect(steps).toEqual([...attempt, ...attempt, 'inner after', 'outer after'])
    expect(bus.admin.module('sales').handled).toBe(1)
  })

  it("commits what a behavior sends with the handlers' outcome, and drops it with a failed attempt", async () => {
    const steps: string[] = []
    const auditing = defineBehavior({
      name: 'auditing',
      async around(message, context, next) {
        await context.publish(OrderAudited, { orderId: (message.body as { orderId: string }).orderId })
        await next()
      },
    })
    const { bus, audited } = await start({ salesBehaviors: [auditing], failures: 2, steps })
    await bus.send(PlaceOrder, { orderId: 'o-1' })
    await bus.idle()
    // Three attempts, one success: one event, not three.
    expect(steps.filter((step) => step === 'handler o-1')).toHaveLength(3)
    expect(audited).toEqual(['o-1'])
  })

  it('lets a behavior consume a message without handling it (a filter)', async () => {
    const steps: string[] = []
    const filter = defineBehavior({
      name: 'drop-tests',
      async around(message, _context, next) {
        if ((message.body as { orderId: string }).orderId.startsWith('test-')) return
        await next()
      },
    })
    const { bus } = await start({ busBehaviors: [filter], steps })
    await bus.send(PlaceOrder, { orderId: 'test-1' })
    await bus.send(PlaceOrder, { orderId: 'o-2' })
    await bus.idle()
    expect(steps).toEqual(['handler o-2'])
    expect(bus.admin.module('sales').handled).toBe(2)
  })

  it('fails an attempt whose behavior throws, or runs the handlers twice, naming the behavior', async () => {
    const steps: string[] = []
    const twice = defineBehavior({
      name: 'twice',
      async around(_message, _context, next) {
        await next()
        await next()
      },
    })
    const { bus } = await start({ salesBehaviors: [twice], steps })
    await bus.send(PlaceOrder, { orderId: 'o-1' })
    await bus.idle()
    const [failed] = bus.admin.failedMessages()
    expect(failed?.failures[0]).toMatchObject({ handler: 'behavior twice', type: 'BehaviorNextTwiceError' })
    // Three attempts, each running the handler once before the second next() was refused.
    expect(steps).toEqual(['handler o-1', 'handler o-1', 'handler o-1'])
  })

  it('refuses behaviors not made with defineBehavior, and a definition with nothing to do', () => {
    expect(() => defineModule({ name: 'm', behaviors: [{ name: 'x', around: async () => {} } as never] })).toThrow(InvalidBehaviorError)
    expect(() => createBus({ storage: 'memory', modules: [defineModule({ name: 'm' })], behaviors: 'timing' as never })).toThrow(/Expected `behaviors` to be an array of defineBehavior/)
    expect(() => defineBehavior({ name: 'idle' })).toThrow(/one of before, after or around/)
    expect(() => defineBehavior({ name: '', before: () => {} })).toThrow(InvalidBehaviorError)
  })
})
