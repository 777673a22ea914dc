import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Bus } from '../../src/bus/index.js'
import { ChargeOrder, Charges, createPaymentsBus, createPaymentsTable, paymentsTable, Shipments } from './support/payments-fixture.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'
import { freePort } from '../../scripts/chaos/app-process.js'
import { createTcpProxy } from '../../scripts/chaos/tcp-proxy.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 4 })
let prefix = ''
let bus: Bus | undefined
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('bus')
  await createPaymentsTable((sql) => pool.query(sql), prefix)
})
afterEach(async () => {
  await bus?.stop()
  bus = undefined
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

async function payments(): Promise<{ order_id: string; amount: number }[]> {
  return (await pool.query(`SELECT order_id, amount FROM ${paymentsTable(prefix)} ORDER BY order_id`)).rows
}

/** Waits until `check` holds (a message relayed by the persistence arrives within moments), at most 10 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the condition never held')
}

/** `ChargeOrder` sent inside a transaction of the caller's own (as an HTTP route writing its own rows would), committed. */
async function chargeInOwnTransaction(on: Bus, orderId: string, amount: number): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await on.send(ChargeOrder, { orderId, amount }, { transaction: client })
    await client.query('COMMIT')
  } finally {
    client.release()
  }
}

/** The server's sessions whose last statement was the bus's LISTEN. */
async function listening(): Promise<number[]> {
  return (await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${prefix}__outside"`])).rows.map((row) => row.pid)
}

/**
 * A bus reaching PostgreSQL through a TCP proxy the test can cut, its relay's pass once a minute (so only
 * its LISTEN brings a caller's send on within the test), started and listening; stopped afterwards.
 */
async function withBusThroughProxy(run: (proxy: Awaited<ReturnType<typeof createTcpProxy>>) => Promise<void>, options: { lostAnswerWaitMs?: number } = {}): Promise<void> {
  const proxy = await createTcpProxy(await freePort(), { host: new URL(postgresUrl).hostname, port: Number(new URL(postgresUrl).port || 5432) })
  await proxy.up()
  try {
    const through = new URL(postgresUrl)
    through.hostname = '127.0.0.1'
    through.port = String(proxy.port)
    bus = createPaymentsBus({ url: through.toString(), prefix, relayEveryMs: 60_000, ...options })
    await bus.start()
    await eventually(async () => (await listening()).length === 1)
    await run(proxy)
  } finally {
    await bus?.stop()
    bus = undefined
    await proxy.close()
  }
}

describe.skipIf(!available)('a bus on the PostgreSQL persistence', () => {
  it('commits a handler’s SQL, its document and its event together, and reads the tables back from PostgreSQL', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix })
    await bus.start()
    const sent = await bus.send(ChargeOrder, { orderId: 'o-1', amount: 42 })
    await bus.idle()
    expect(await payments()).toEqual([{ order_id: 'o-1', amount: 42 }])
    expect(await bus.table(Charges).get('o-1')).toEqual({ orderId: 'o-1', amount: 42 })
    expect(await bus.table(Shipments).get('o-1')).toEqual({ orderId: 'o-1' })
    expect(await bus.table(Shipments).count()).toBe(1)
    const steps = await bus.admin.conversation(sent.conversationId)
    expect(steps.map((step) => `${step.type}@${step.to}:${step.outcome}`)).toEqual(['ChargeOrder@billing:handled', 'OrderCharged@shipping:handled'])
  })

  it('error-queues a message whose SQL violates a constraint, naming the SQL error, and commits none of its writes or messages', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix })
    await bus.start()
    await bus.send(ChargeOrder, { orderId: 'o-bad', amount: -5 })
    await bus.idle()
    const [failed] = bus.admin.failedMessages()
    expect(failed?.type).toBe('ChargeOrder')
    // Three attempts (immediate retries: 2), each rolled back.
    expect(failed?.failures).toHaveLength(3)
    expect(failed?.failures[0]?.message).toMatch(/violates check constraint/)
    expect(await payments()).toEqual([])
    expect(await bus.table(Charges).get('o-bad')).toBeUndefined()
    expect(await bus.table(Shipments).count()).toBe(0)
    expect(bus.admin.module('shipping').handled).toBe(0)
  })

  it('keeps the error queue across a restart; a retried message is handled once its cause is fixed, a deleted one is kept for people', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix })
    await bus.start()
    await bus.send(ChargeOrder, { orderId: 'o-retry', amount: -1 })
    await bus.send(ChargeOrder, { orderId: 'o-delete', amount: -2 })
    await bus.idle()
    expect(bus.admin.failedMessages()).toHaveLength(2)
    await bus.stop()

    bus = createPaymentsBus({ url: postgresUrl, prefix })
    expect((await bus.start()).failed).toBe(2)
    const failed = bus.admin.failedMessages()
    const retried = failed.find((message) => (message.envelope.body as { orderId: string }).orderId === 'o-retry')!
    const deleted = failed.find((message) => (message.envelope.body as { orderId: string }).orderId === 'o-delete')!
    // The fix: the constraint the handler's SQL broke now allows the amount.
    await pool.query(`ALTER TABLE ${paymentsTable(prefix)} DROP CONSTRAINT payments_amount_check`)
    expect(await bus.admin.retryFailed([retried.key])).toMatchObject({ retried: [retried.key] })
    expect(await bus.admin.deleteFailed([deleted.key])).toMatchObject({ deleted: [deleted.key] })
    await bus.idle()
    expect(await payments()).toEqual([{ order_id: 'o-retry', amount: -1 }])
    expect(await bus.table(Shipments).get('o-retry')).toEqual({ orderId: 'o-retry' })
    expect(bus.admin.failedMessages()).toEqual([])
    const kept = (await pool.query(`SELECT kind, envelope->'body'->>'orderId' AS order_id FROM "${prefix}_billing".waiting`)).rows
    expect(kept).toEqual([{ kind: 'archived', order_id: 'o-delete' }])
    await bus.stop()

    // Nothing comes back after another restart: the retried one is handled, the deleted one archived.
    bus = createPaymentsBus({ url: postgresUrl, prefix })
    expect(await bus.start()).toMatchObject({ failed: 0, queued: 0 })
  })

  it('keeps a delayed retry across a restart, and tries it when it is due', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix, delayedRetries: { count: 1, baseDelayMs: 1_500 } })
    await bus.start()
    await bus.send(ChargeOrder, { orderId: 'o-later', amount: -1 })
    await eventually(async () => (await pool.query(`SELECT kind FROM "${prefix}_billing".waiting`)).rows[0]?.kind === 'delayed')
    await bus.stop()
    await pool.query(`ALTER TABLE ${paymentsTable(prefix)} DROP CONSTRAINT payments_amount_check`)

    bus = createPaymentsBus({ url: postgresUrl, prefix, delayedRetries: { count: 1, baseDelayMs: 1_500 } })
    expect(await bus.start()).toMatchObject({ delayed: 1 })
    await eventually(async () => (await bus!.table(Shipments).get('o-later')) !== undefined)
    expect(await payments()).toEqual([{ order_id: 'o-later', amount: -1 }])
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${prefix}_billing".waiting`)).rows).toEqual([{ n: 0 }])
  })

  it('keeps what was pending across a restart: a stopped module’s messages are handled once it runs again', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix })
    await bus.start()
    bus.admin.stopModule('shipping')
    for (let i = 0; i < 5; i++) await bus.send(ChargeOrder, { orderId: `o-${i}`, amount: 10 + i })
    await eventually(async () => (await bus!.table(Charges).count()) === 5)
    await bus.stop()

    bus = createPaymentsBus({ url: postgresUrl, prefix })
    const report = await bus.start()
    expect(report.queued).toBe(5)
    await bus.idle()
    expect(await bus.table(Shipments).count()).toBe(5)
    expect(await payments()).toHaveLength(5)
  })

  it('forgets inbox marks, dispatched messages and audit steps past their age, and nothing still pending', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix, keepHandledMs: 0 })
    await bus.start()
    bus.admin.stopModule('shipping')
    await bus.send(ChargeOrder, { orderId: 'o-old', amount: 3 })
    await eventually(async () => (await bus!.table(Charges).count()) === 1)
    const count = async (schema: string, table: string) => Number((await pool.query(`SELECT count(*) AS n FROM "${prefix}_${schema}".${table}`)).rows[0].n)
    expect(await count('billing', 'inbox')).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    await bus.compact()
    expect(await count('billing', 'inbox')).toBe(0)
    expect(await count('billing', 'audit')).toBe(0)
    expect(await count('_outside', 'outbox')).toBe(0)
    // OrderCharged waits for Shipping: still pending, so kept, and shipped once Shipping runs.
    expect(await count('billing', 'outbox')).toBe(1)
    bus.admin.startModule('shipping')
    await bus.idle()
    expect(await bus.table(Shipments).get('o-old')).toEqual({ orderId: 'o-old' })
  })

  it('keeps at most the audit’s maxConversations per module, the oldest going first', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix, audit: { maxConversations: 2 } })
    await bus.start()
    const sent: { conversationId: string }[] = []
    for (let i = 1; i <= 4; i++) {
      sent.push(await bus.send(ChargeOrder, { orderId: `o-${i}`, amount: i }))
      await bus.idle()
    }
    await eventually(async () => (await bus!.table(Shipments).count()) === 4)
    const kept = async () => Promise.all(sent.map(async ({ conversationId }) => (await bus!.admin.conversation(conversationId)).length))
    expect(await kept()).toEqual([2, 2, 2, 2])
    await bus.compact()
    expect(await kept()).toEqual([0, 0, 2, 2])
  })

  it('relays a send from the caller’s own transaction as soon as it commits, not at the relay’s next pass', async () => {
    // A pass every minute: only the transaction's NOTIFY can bring the message on within the test.
    bus = createPaymentsBus({ url: postgresUrl, prefix, relayEveryMs: 60_000 })
    await bus.start()
    await chargeInOwnTransaction(bus, 'notified', 7)
    await eventually(async () => (await bus!.table(Shipments).get('notified')) !== undefined)
    expect(await payments()).toEqual([{ order_id: 'notified', amount: 7 }])
  })

  it('listens again after its connection to PostgreSQL was lost', async () => {
    await withBusThroughProxy(async (proxy) => {
      const [before] = await listening()
      // 1. Every connection dropped, the server back a moment later (as a restart looks from here).
      await proxy.down()
      await proxy.up()
      // 2. The bus listens again, on a new session; a send in the caller's transaction (straight to the server) is relayed at once.
      await eventually(async () => (await listening()).some((pid) => pid !== before))
      await chargeInOwnTransaction(bus!, 'after-drop', 8)
      await eventually(async () => (await pool.query(`SELECT 1 FROM ${paymentsTable(prefix)} WHERE order_id = 'after-drop'`)).rowCount === 1)
    })
  })

  /** How many rows the outside's outbox holds for `orderId`, and how many payments were made for it (straight to the server). */
  async function rowsAndPayments(orderId: string): Promise<{ rows: number; payments: number }> {
    const rows = await pool.query(`SELECT 1 FROM "${prefix}__outside".outbox WHERE envelope->'body'->>'orderId' = $1`, [orderId])
    const paid = await pool.query(`SELECT 1 FROM ${paymentsTable(prefix)} WHERE order_id = $1`, [orderId])
    return { rows: rows.rowCount ?? 0, payments: paid.rowCount ?? 0 }
  }

  /** A send handled end to end, so the pool holds open connections. */
  async function warmUp(): Promise<void> {
    await bus!.send(ChargeOrder, { orderId: 'warm-up', amount: 1 })
    await eventually(async () => (await rowsAndPayments('warm-up')).payments === 1)
    await bus!.idle()
  }

  it('resolves a send whose INSERT committed but whose answer the connection lost, once the database is back, and passes it on once', async () => {
    await withBusThroughProxy(async (proxy) => {
      // 1. The server runs the INSERT and commits; its answer never arrives (on a connection the pool holds:
      // a new one would wait for the answers to its start-up instead).
      await warmUp()
      proxy.lose('answers')
      let settled = false
      const sending = bus!.send(ChargeOrder, { orderId: 'answer-lost', amount: 3 }).finally(() => (settled = true))
      await eventually(async () => (await rowsAndPayments('answer-lost')).rows === 1)
      // 2. The connection dies, and the server is back half a second later: the send is not told it failed.
      await proxy.down()
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(settled).toBe(false)
      await proxy.up()
      await sending
      // 3. Charged once, from the one row (not written again, not left for a takeover 30 s later).
      await eventually(async () => (await rowsAndPayments('answer-lost')).payments === 1)
      await bus!.idle()
      expect(await rowsAndPayments('answer-lost')).toEqual({ rows: 1, payments: 1 })
    })
  })

  it('writes a send whose INSERT never reached the server once the database is back, and passes it on once', async () => {
    await withBusThroughProxy(async (proxy) => {
      await warmUp()
      proxy.lose('requests')
      const sending = bus!.send(ChargeOrder, { orderId: 'request-lost', amount: 4 })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await rowsAndPayments('request-lost')).toEqual({ rows: 0, payments: 0 })
      await proxy.down()
      await proxy.up()
      await sending
      await eventually(async () => (await rowsAndPayments('request-lost')).payments === 1)
      await bus!.idle()
      expect(await rowsAndPayments('request-lost')).toEqual({ rows: 1, payments: 1 })
    })
  })

  it('says a send may have gone through when the database stays away past lostAnswerWaitMs, and that nothing was sent when it cannot be reached at all', async () => {
    await withBusThroughProxy(
      async (proxy) => {
        await warmUp()
        proxy.lose('answers')
        const sending = bus!.send(ChargeOrder, { orderId: 'unknown', amount: 5 })
        const outcome = sending.then(
          () => undefined,
          (error: unknown) => error,
        )
        await eventually(async () => (await rowsAndPayments('unknown')).rows === 1)
        await proxy.down()
        expect(await outcome).toMatchObject({ code: 'MAILROOM_ERR_PERSISTENCE_OUTCOME_UNKNOWN', message: expect.stringMatching(/may have been committed/) })
        // Still away: a new send reaches nothing, so nothing was committed.
        await expect(bus!.send(ChargeOrder, { orderId: 'refused', amount: 6 })).rejects.toMatchObject({ code: 'MAILROOM_ERR_PERSISTENCE_UNAVAILABLE' })
        expect(await rowsAndPayments('refused')).toEqual({ rows: 0, payments: 0 })
      },
      { lostAnswerWaitMs: 600 },
    )
  })

  it('relays a send committed while nobody listened (its notification lost) once it listens again, not at the next pass', async () => {
    await withBusThroughProxy(async (proxy) => {
      // 1. The bus's connections dropped; meanwhile a caller's transaction (straight to the server) commits a send: its NOTIFY reaches nobody.
      await proxy.down()
      await chargeInOwnTransaction(bus!, 'unheard', 9)
      // 2. The server reachable again: the bus listens again, and looks for what it missed.
      await proxy.up()
      await eventually(async () => (await pool.query(`SELECT 1 FROM ${paymentsTable(prefix)} WHERE order_id = 'unheard'`)).rowCount === 1)
    })
  })

  it('sends from inside the caller’s own transaction: nothing leaves on a rollback, the message leaves once it commits', async () => {
    bus = createPaymentsBus({ url: postgresUrl, prefix })
    await bus.start()
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await bus.send(ChargeOrder, { orderId: 'rolled-back', amount: 1 }, { transaction: client })
      await client.query('ROLLBACK')
      await client.query('BEGIN')
      await bus.send(ChargeOrder, { orderId: 'committed', amount: 2 }, { transaction: client })
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    await eventually(async () => (await bus!.table(Shipments).count()) === 1)
    await bus.idle()
    expect(await payments()).toEqual([{ order_id: 'committed', amount: 2 }])
  })
})
