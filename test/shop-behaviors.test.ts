import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, handle } from '../src/bus/index.js'
import { warnWhenSlow } from '../src/shop-behaviors.js'

const Charge = defineCommand('Charge', Type.Object({ waitMs: Type.Number() }))

describe("the shop's behavior: warn when a handler is slow", () => {
  it("warns in the module's log about a message whose handlers took longer than the threshold, and only then", async () => {
    // A clock the handler moves: the handler "takes" exactly what the message says.
    let nowMs = 0
    const billing = defineModule({
      name: 'billing',
      concurrency: 1,
      handlers: [handle(Charge, async ({ waitMs }) => void (nowMs += waitMs))],
    })
    const bus = createBus({ storage: 'memory', modules: [billing], routes: { Charge: 'billing' }, behaviors: [warnWhenSlow(50, () => nowMs)] })
    await bus.start()
    await bus.send(Charge, { waitMs: 50 })
    await bus.send(Charge, { waitMs: 120 })
    await bus.idle()
    const warnings = bus.admin.logs('billing').filter((line) => line.level === 'warn').map((line) => line.text)
    expect(warnings).toHaveLength(1)
    expect(warnings).toEqual(['Charge took 120 ms (more than 50 ms)'])
    await bus.stop()
  })
})
