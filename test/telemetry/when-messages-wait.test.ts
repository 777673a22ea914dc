import { Type } from '@sinclair/typebox'
import { context, propagation, trace, SpanStatusCode } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, defineSaga, correlate, handle, MessageHeaders, type Bus, type ModuleDefinition } from '../../src/bus/index.js'
import { useTempDirs } from '../bus/support/temp-dir.js'
import { SpanTree } from './support/span-tree.js'
import { spansOfTrace, startRecordedTelemetry } from './support/traced-shop.js'

const recorded = startRecordedTelemetry()
afterAll(() => recorded.telemetry.shutdown())
afterEach(() => recorded.spans.reset())
const tempDir = useTempDirs()

const Ping = defineCommand('Ping', Type.Object({ n: Type.Integer() }))
const Later = defineCommand('Later', Type.Object({ n: Type.Integer() }))
const tracer = trace.getTracer('test')

/** Sends from inside a span of the caller's, as application code with its own span would; returns that trace's id. */
async function sendTraced(bus: Bus, n: number): Promise<string> {
  const caller = tracer.startSpan('caller')
  await context.with(trace.setSpan(context.active(), caller), () => bus.send(Ping, { n }))
  caller.end()
  return caller.spanContext().traceId
}

const buses: Bus[] = []
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop()
})
function started(modules: ModuleDefinition[], options: Partial<Parameters<typeof createBus>[0]> = {}): Promise<Bus> {
  const handlesLater = modules.some((module) => module.handlers.some((handler) => handler.message.type === 'Later'))
  const bus = createBus({ modules, storage: 'memory', routes: handlesLater ? { Ping: 'pinger', Later: 'pinger' } : { Ping: 'pinger' }, ...options })
  buses.push(bus)
  return bus.start().then(() => bus)
}

describe('a trace through messages that wait', () => {
  it('starts a new trace for a deferred message, linked to the span that deferred it', async () => {
    const pinger = defineModule({
      name: 'pinger',
      handlers: [handle(Ping, async ({ n }, { defer }) => defer(20, Later, { n })), handle(Later, async () => {})],
    })
    const bus = await started([pinger])
    const traceId = await sendTraced(bus, 1)
    await expect.poll(async () => (await recorded.finishedSpans()).filter((span) => span.name === 'process pinger').length).toBe(2)
    const spans = await recorded.finishedSpans()
    const scheduled = new SpanTree(spansOfTrace(spans, traceId))
    const defer = scheduled.one('defer pinger')
    expect(scheduled.ancestry(defer)).toEqual(['process pinger', 'send pinger', 'caller'])
    // The Later message's handling is no part of the caller's trace, but points back at the defer.
    const later = spans.find((span) => span.name === 'process pinger' && span.attributes['mailroom.message.type'] === 'Later')!
    expect(later.spanContext().traceId).not.toBe(traceId)
    expect(later.parentSpanContext).toBeUndefined()
    expect(later.links.map((link) => link.context.spanId)).toEqual([defer.spanContext().spanId])
  })

  it("starts a new trace for a saga's timeout, linked to the span that asked for it", async () => {
    const Reminder = defineCommand('Reminder', Type.Object({ n: Type.Integer() }))
    const saga = defineSaga({
      name: 'reminding',
      data: Type.Object({ n: Type.Integer() }),
      create: (id) => ({ n: Number(id) }),
      correlation: [correlate(Ping, ({ n }) => String(n))],
      startedBy: [Ping],
      handlers: (on) => [on(Ping, async ({ n }, saga) => saga.requestTimeout(20, Reminder, { n }))],
      timeouts: (on) => [on(Reminder, async (_reminder, saga) => saga.markAsComplete())],
    })
    const bus = await started([defineModule({ name: 'pinger', sagas: [saga] })])
    const traceId = await sendTraced(bus, 2)
    await expect.poll(async () => (await recorded.finishedSpans()).filter((span) => span.name === 'process pinger').length).toBe(2)
    const spans = await recorded.finishedSpans()
    const asked = new SpanTree(spansOfTrace(spans, traceId)).one('timeout pinger')
    const fired = spans.find((span) => span.name === 'process pinger' && span.attributes['mailroom.message.type'] === 'Reminder')!
    expect(fired.spanContext().traceId).not.toBe(traceId)
    expect(fired.links.map((link) => link.context.spanId)).toEqual([asked.spanContext().spanId])
  })

  it('keeps the trace through the error queue and a retry from it, the retry linked to the attempt that failed', async () => {
    let broken = true
    const pinger = defineModule({
      name: 'pinger',
      recoverability: { immediateRetries: 0, delayedRetries: { count: 0 } },
      handlers: [
        handle(Ping, async () => {
          if (broken) throw new RangeError('gateway down')
        }),
      ],
    })
    const bus = await started([pinger])
    const traceId = await sendTraced(bus, 3)
    await bus.idle()
    const [failedMessage] = bus.admin.failedMessages()
    expect(failedMessage!.envelope.headers.traceparent).toContain(traceId)

    broken = false
    await bus.admin.retryFailed([failedMessage!.id])
    await bus.idle()
    const tree = new SpanTree(spansOfTrace(await recorded.finishedSpans(), traceId))
    const send = tree.one('send pinger')
    const [failed, retried] = tree.named('process pinger').sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    expect(tree.parentOf(failed!)).toBe(send)
    expect(failed!.events.map((event) => event.name)).toEqual(['exception', 'mailroom.error_queue'])
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR)
    expect(failed!.attributes['error.type']).toBe('RangeError')
    expect(tree.parentOf(retried!)).toBe(send)
    expect(retried!.links.map((link) => link.context.spanId)).toEqual([failed!.spanContext().spanId])
    expect(retried!.attributes['mailroom.manual_retries']).toBe(1)
    expect(retried!.status.code).not.toBe(SpanStatusCode.ERROR)
  })

  it('keeps the trace of a message that waited in the journal across a restart', async () => {
    const dataDir = tempDir()
    const handled: number[] = []
    const pinger = defineModule({ name: 'pinger', handlers: [handle(Ping, async ({ n }) => void handled.push(n))] })
    const first = createBus({ modules: [pinger], routes: { Ping: 'pinger' }, dataDir })
    first.admin.stopModule('pinger')
    await first.start()
    const traceId = await sendTraced(first, 4)
    await first.stop()
    const send = new SpanTree(spansOfTrace(await recorded.finishedSpans(), traceId)).one('send pinger')
    expect(send.attributes['messaging.message.id']).toBeDefined()

    // A new bus (as after a restart) reads the message back from the journal and handles it in the same trace.
    await started([pinger], { dataDir, storage: 'disk' })
    await expect.poll(() => handled).toEqual([4])
    await expect.poll(async () => new SpanTree(spansOfTrace(await recorded.finishedSpans(), traceId)).named('process pinger').length).toBe(1)
    const tree = new SpanTree(spansOfTrace(await recorded.finishedSpans(), traceId))
    expect(tree.parentOf(tree.one('process pinger'))?.spanContext().spanId).toBe(send.spanContext().spanId)
    expect(tree.one('process pinger').attributes['messaging.message.id']).toBe(send.attributes['messaging.message.id'])
  })

  it('writes the trace context into the envelope as W3C trace context headers', async () => {
    const seen: Record<string, string>[] = []
    const pinger = defineModule({ name: 'pinger', handlers: [handle(Ping, async (_ping, { headers }) => void seen.push({ ...headers }))] })
    const bus = await started([pinger])
    const traceId = await sendTraced(bus, 5)
    await bus.idle()
    expect(seen[0]!.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
    expect(seen[0]![MessageHeaders.MessageId]).toBeDefined()
  })

  it('handles a message whose trace headers the propagator cannot read, untraced rather than not at all', async () => {
    const handled: number[] = []
    const pinger = defineModule({ name: 'pinger', handlers: [handle(Ping, async ({ n }) => void handled.push(n))] })
    const bus = await started([pinger])
    const throwing = { inject() {}, extract(): never { throw new Error('unreadable') }, fields: () => ['traceparent'] }
    propagation.disable()
    expect(propagation.setGlobalPropagator(throwing)).toBe(true)
    try {
      await bus.send(Ping, { n: 6 })
      await bus.idle()
    } finally {
      propagation.disable()
      propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    }
    expect(handled).toEqual([6])
  })
})
