import { context, trace } from '@opentelemetry/api'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Bus } from '../../src/bus/index.js'
import { SpanTree } from '../telemetry/support/span-tree.js'
import { spansOfTrace, startRecordedTelemetry } from '../telemetry/support/traced-shop.js'
import { ChargeOrder, createPaymentsBus, createPaymentsTable, paymentsTable, Shipments } from './support/payments-fixture.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const recorded = startRecordedTelemetry()
const pool = new Pool({ connectionString: postgresUrl, max: 2 })
let prefix = ''
let bus: Bus | undefined
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('traced')
  await createPaymentsTable((sql) => pool.query(sql), prefix)
})
afterEach(async () => {
  await bus?.stop()
  bus = undefined
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
  await recorded.telemetry.shutdown()
})

describe.skipIf(!available)('a trace through the PostgreSQL persistence', () => {
  it('keeps the trace of a message whose delayed retry waited in PostgreSQL across a restart, linked to the attempt that failed', async () => {
    const options = { url: postgresUrl, prefix, delayedRetries: { count: 1, baseDelayMs: 2_500 } }
    bus = createPaymentsBus(options)
    await bus.start()
    // 1. Sent from inside the caller's span; the handler's SQL violates a constraint, so it waits for a delayed retry.
    const caller = trace.getTracer('test').startSpan('caller')
    await context.with(trace.setSpan(context.active(), caller), () => bus!.send(ChargeOrder, { orderId: 'o-traced', amount: -1 }))
    caller.end()
    const traceId = caller.spanContext().traceId
    await expect.poll(async () => (await pool.query(`SELECT kind FROM "${prefix}_billing".waiting`)).rows[0]?.kind, { timeout: 10_000 }).toBe('delayed')
    await bus.stop()
    await pool.query(`ALTER TABLE ${paymentsTable(prefix)} DROP CONSTRAINT payments_amount_check`)

    // 2. Started again: the delayed retry, read back from PostgreSQL, is tried and succeeds.
    bus = createPaymentsBus(options)
    await bus.start()
    await expect.poll(async () => (await bus!.table(Shipments).get('o-traced')) !== undefined, { timeout: 10_000 }).toBe(true)
    await expect.poll(async () => spansOfTrace(await recorded.finishedSpans(), traceId).some((span) => span.name === 'process shipping'), { timeout: 5_000 }).toBe(true)

    const tree = new SpanTree(spansOfTrace(await recorded.finishedSpans(), traceId))
    const send = tree.one('send billing')
    expect(tree.parentOf(send)?.name).toBe('caller')
    const [failed, delayed] = tree.named('process billing').sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    expect(tree.parentOf(failed!)).toBe(send)
    expect(failed!.events.filter((event) => event.name === 'exception')).toHaveLength(3)
    expect(tree.parentOf(delayed!)).toBe(send)
    expect(delayed!.links.map((link) => link.context.spanId)).toEqual([failed!.spanContext().spanId])
    const charged = tree.one('publish OrderCharged')
    expect(tree.parentOf(charged)).toBe(delayed)
    expect(tree.parentOf(tree.one('process shipping'))).toBe(charged)
  })
})
