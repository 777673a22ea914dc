import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { commitHandled } from '../../src/bus/persistence/postgres/handled-commit.js'
import { relayPending, type PendingMessage } from '../../src/bus/persistence/postgres/outbox-relay.js'
import { migrate, moduleSchema } from '../../src/bus/persistence/postgres/schema.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 8 })
let prefix = ''
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('relay')
  await migrate(pool, { prefix, modules: ['billing'] })
  // 30 handled messages, each with one outgoing message waiting in the outbox.
  for (let n = 0; n < 30; n++) {
    const client = await pool.connect()
    try {
      await commitHandled(client, prefix, { module: 'billing', messageId: `in-${n}`, outgoing: [{ envelope: { id: `out-${n}`, type: 'OrderBilled', headers: {}, body: { n } }, destinations: ['shipping'] }], sagas: [], documents: [] })
    } finally {
      client.release()
    }
  }
})
afterEach(async () => {
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

const pending = async () => Number((await pool.query(`SELECT count(*) AS n FROM "${moduleSchema(prefix, 'billing')}".outbox WHERE dispatched_at IS NULL`)).rows[0].n)

describe.skipIf(!available)("the outbox's relay, on PostgreSQL", () => {
  it('hands every committed message to the transport once, however many instances relay at once', async () => {
    const sent: string[] = []
    const send = async (messages: PendingMessage[]) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      sent.push(...messages.map((message) => message.envelope.id))
    }
    // Three instances, small batches, until nothing is pending.
    const relay = async () => {
      while ((await relayPending(pool, prefix, 'billing', send, 4)) > 0);
    }
    await Promise.all([relay(), relay(), relay()])
    expect([...sent].sort()).toEqual(Array.from({ length: 30 }, (_, n) => `out-${n}`).sort())
    expect(await pending()).toBe(0)
  })

  it('leaves the messages pending when the transport refuses them, for the next relay, by this instance or another', async () => {
    await expect(relayPending(pool, prefix, 'billing', async () => Promise.reject(new Error('the broker is down')))).rejects.toThrow('the broker is down')
    expect(await pending()).toBe(30)
    const sent: string[] = []
    expect(await relayPending(pool, prefix, 'billing', async (messages) => void sent.push(...messages.map((message) => message.envelope.id)))).toBe(30)
    expect(sent).toHaveLength(30)
    expect(await pending()).toBe(0)
  })
})
