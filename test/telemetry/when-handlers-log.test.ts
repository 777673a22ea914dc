import { Writable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import { context, trace } from '@opentelemetry/api'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, handle, InvalidBusOptionError } from '../../src/bus/index.js'
import { startRecordedTelemetry } from './support/traced-shop.js'

const recorded = startRecordedTelemetry()
afterAll(() => recorded.telemetry.shutdown())

const Charge = defineCommand('Charge', Type.Object({ orderId: Type.String() }))

/** A pino logger whose JSON lines the test reads back. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

describe("a handler's log", () => {
  it("takes pino's argument order and writes through the bus's pino logger, each line naming module, message, conversation and trace", async () => {
    const { logger, lines } = memoryLogger()
    const billing = defineModule({
      name: 'billing',
      handlers: [
        handle(Charge, async ({ orderId }, { log }) => {
          log.info({ orderId, amount: 12 }, 'Charging')
          log.warn('Gateway slow')
          log.error(new RangeError('card expired'), 'Charge refused')
        }),
      ],
    })
    const bus = createBus({ modules: [billing], routes: { Charge: 'billing' }, storage: 'memory', logger })
    await bus.start()
    const caller = trace.getTracer('test').startSpan('caller')
    const sent = await context.with(trace.setSpan(context.active(), caller), () => bus.send(Charge, { orderId: 'o-1' }))
    caller.end()
    await bus.idle()
    await bus.stop()

    const traceId = caller.spanContext().traceId
    const handlerLines = lines.filter((line) => line.module === 'billing')
    expect(handlerLines.map((line) => [line.level, line.msg])).toEqual([
      [30, 'Charging'],
      [40, 'Gateway slow'],
      [50, 'Charge refused'],
    ])
    for (const line of handlerLines) {
      expect(line).toMatchObject({ module: 'billing', messageId: sent.messageId, messageType: 'Charge', conversationId: sent.conversationId, trace_id: traceId })
      expect(line.span_id).toMatch(/^[0-9a-f]{16}$/)
    }
    expect(handlerLines[0]).toMatchObject({ orderId: 'o-1', amount: 12 })
    // An Error first is pino's `err`, serialized with its type and message.
    expect(handlerLines[2]!.err).toMatchObject({ type: 'RangeError', message: 'card expired' })

    // The console's panel still gets the lines (text, fields, message id, trace id).
    const panel = bus.admin.logs('billing')
    expect(panel.map((line) => line.text)).toEqual(['Charging', 'Gateway slow', 'Charge refused'])
    expect(panel[0]).toMatchObject({ fields: { orderId: 'o-1', amount: 12 }, messageId: sent.messageId, traceId })
    expect(panel[2]!.fields).toEqual({ err: 'RangeError: card expired' })
  })

  it('refuses a logger that is not pino-shaped, at createBus', () => {
    const module = defineModule({ name: 'billing', handlers: [handle(Charge, async () => {})] })
    expect(() => createBus({ modules: [module], routes: { Charge: 'billing' }, storage: 'memory', logger: console as never })).toThrow(InvalidBusOptionError)
    expect(() => createBus({ modules: [module], routes: { Charge: 'billing' }, storage: 'memory', logger: console as never })).toThrow(/Expected `logger` to be a pino logger/)
  })
})
