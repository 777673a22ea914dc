import { afterAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import { createBus, defineCommand, defineModule, handle, type Bus } from '../../src/bus/index.js'
import { postgresPersistence, postgresTransport } from '../../src/bus/postgres.js'
import { createMemoryFileSystem } from '../../src/bus/files/memory-file-system.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 2 })
const prefixes: string[] = []
afterAll(async () => {
  if (available) for (const prefix of prefixes) await dropSchemas(pool, prefix)
  await pool.end()
})

const Ping = defineCommand('TransportPing', Type.Object({ n: Type.Integer() }))

function busOn(prefix: string, seen: number[], options: Record<string, unknown> = {}): Bus {
  const pinged = defineModule({ name: 'pinged', handlers: [handle(Ping, async ({ n }) => void seen.push(n))] })
  return createBus({ modules: [pinged], routes: { TransportPing: 'pinged' }, storage: 'memory', fileSystem: createMemoryFileSystem(), transport: postgresTransport({ connectionString: postgresUrl, prefix, pollEveryMs: 100, ...options }) })
}

describe('postgresTransport options', () => {
  it('refuses an unknown option, a missing server, a bad prefix or time, naming it', () => {
    expect(() => postgresTransport({ connectionString: postgresUrl, leaseMS: 5 } as never)).toThrow(/transport\.leaseMS/)
    expect(() => postgresTransport({})).toThrow(/transport\.connectionString/)
    expect(() => postgresTransport({ connectionString: postgresUrl, prefix: 'Shop-2' })).toThrow(/transport\.prefix/)
    // `<prefix>_control` would pass PostgreSQL's 63 bytes: a channel it refuses, a schema name it cuts.
    expect(() => postgresTransport({ connectionString: postgresUrl, prefix: 'p'.repeat(56) })).toThrow(/transport\.prefix.*at most 55 characters/)
    expect(() => postgresTransport({ connectionString: postgresUrl, prefix: 'p'.repeat(55) })).not.toThrow()
    expect(() => postgresTransport({ connectionString: postgresUrl, leaseMs: 0 })).toThrow(/transport\.leaseMs/)
    expect(() => postgresTransport({ connectionString: postgresUrl, prefetchPerSlot: 1.5 })).toThrow(/transport\.prefetchPerSlot/)
  })
})

describe('postgresPersistence options', () => {
  it('refuses, at createBus, a prefix that makes a module’s schema longer than PostgreSQL’s 63 bytes, naming it', () => {
    const pinged = defineModule({ name: 'pinged', handlers: [handle(Ping, async () => {})] })
    const bus = (prefix: string) => createBus({ modules: [pinged], routes: { TransportPing: 'pinged' }, persistence: postgresPersistence({ connectionString: postgresUrl, prefix }) })
    expect(() => bus('p'.repeat(57))).toThrow(/persistence\.prefix.*p{57}_pinged does not/)
    expect(() => bus('p'.repeat(50))).not.toThrow()
  })
})

describe.skipIf(!available)('the PostgreSQL transport', () => {
  it('starts on a server that does not answer as a broker transport does: connecting, saying where and why, nothing lost', async () => {
    const bus = createBus({ modules: [defineModule({ name: 'pinged', handlers: [handle(Ping, async () => {})] })], routes: { TransportPing: 'pinged' }, storage: 'memory', fileSystem: createMemoryFileSystem(), transport: postgresTransport({ connectionString: 'postgres://postgres@127.0.0.1:1/test', stopTimeoutMs: 500 }) })
    const errors: string[] = []
    bus.signals.on('bus:error', ({ error }) => errors.push((error as Error).message))
    await bus.start()
    try {
      expect(bus.admin.transport()).toMatchObject({ kind: 'postgres', state: 'connecting', address: 'postgres://127.0.0.1:1/test', lastError: expect.stringMatching(/ECONNREFUSED/) })
      // A send waits in the journal meanwhile: the transport holds it, unconfirmed.
      await bus.send(Ping, { n: 1 })
      expect(bus.admin.transport().unconfirmed).toBe(1)
      expect(errors.some((message) => message.includes('postgres://127.0.0.1:1/test'))).toBe(true)
    } finally {
      await bus.stop()
    }
  })

  it('refuses queues a newer Mailroom wrote, naming them', async () => {
    const prefix = testPrefix('newer')
    prefixes.push(prefix)
    const seen: number[] = []
    const first = busOn(prefix, seen)
    await first.start()
    await first.stop()
    await pool.query(`UPDATE "${prefix}_queues".schema_version SET version = 99`)
    await expect(busOn(prefix, seen).start()).rejects.toMatchObject({ code: 'MAILROOM_ERR_PERSISTENCE_SCHEMA_TOO_NEW', message: expect.stringContaining(`${prefix}_queues`) })
  })

  it('moves a row that is not a Mailroom message aside, with the reason, and goes on with the next', async () => {
    const prefix = testPrefix('junk')
    prefixes.push(prefix)
    const seen: number[] = []
    const bus = busOn(prefix, seen)
    await bus.start()
    try {
      await pool.query(`INSERT INTO "${prefix}_queues".messages (queue, message_id, envelope) VALUES ('pinged', 'junk-1', '{"hello": "world"}')`)
      await bus.send(Ping, { n: 1 })
      for (let waited = 0; seen.length === 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(seen).toEqual([1])
      const { rows } = await pool.query(`SELECT queue, content, reason FROM "${prefix}_queues".undecodable`)
      expect(rows).toEqual([{ queue: 'pinged', content: { hello: 'world' }, reason: expect.stringContaining('not a Mailroom envelope') }])
      // The handled row's delete goes in the next batch: soon, not at once.
      await expect.poll(async () => (await pool.query(`SELECT 1 FROM "${prefix}_queues".messages`)).rowCount, { timeout: 5_000 }).toBe(0)
    } finally {
      await bus.stop()
    }
  })

  it('delivers again, once its lease is over, a message whose consumer died holding it', async () => {
    const prefix = testPrefix('lease')
    prefixes.push(prefix)
    // A consumer that claimed the row and died: its claim, as it left it.
    const seen: number[] = []
    const bus = busOn(prefix, seen, { leaseMs: 300 })
    await bus.start()
    try {
      await bus.stop()
      await pool.query(`INSERT INTO "${prefix}_queues".messages (queue, message_id, envelope, visible_at, claimed_by, deliveries) VALUES ('pinged', 'm-1', $1, now() + interval '1 second', 'a dead process', 1)`, [JSON.stringify({ id: 'm-1', type: 'TransportPing', headers: {}, body: { n: 7 } })])
      const again = busOn(prefix, seen, { leaseMs: 300 })
      await again.start()
      try {
        const started = Date.now()
        for (let waited = 0; seen.length === 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
        expect(seen).toEqual([7])
        // Not before the dead process's lease was over.
        expect(Date.now() - started).toBeGreaterThan(500)
      } finally {
        await again.stop()
      }
    } finally {
      await bus.stop().catch(() => undefined)
    }
  })
})
