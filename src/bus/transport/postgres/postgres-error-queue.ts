import type { Pool, PoolClient } from 'pg'
import type { FailureRecord } from '../../delivery/delivery.js'
import type { Envelope } from '../../messages/envelope.js'
import { failedKey, type FailedMessage } from '../../recoverability/error-queue.js'
import { forRetry } from '../../recoverability/failure-headers.js'
import type { RemoteErrorQueue } from '../transport.js'
import { enqueue, listErrors, parkFailed, takeError } from './queue-statements.js'

export interface PostgresErrorQueueOptions {
  pool: Pool
  schema: string
  channel: string
  /** Keeps a deleted message for people (an archive), before the table forgets it. */
  archive: (message: FailedMessage) => Promise<void>
  onError: (error: unknown) => void
  /** How often the console's list is read again (ms). @default 1000 */
  refreshEveryMs?: number
}

/** The console lists at most this many (newest first). */
const listed = 10_000

/**
 * The error queue in PostgreSQL, as the console browses it: read into memory once a second and after each
 * change (the console asks for it synchronously). A retry moves a message back to its module's queue, and a
 * delete archives it, each in one transaction with its removal from the table: never both, never neither.
 */
export function browsePostgresErrorQueue(options: PostgresErrorQueueOptions): RemoteErrorQueue & { refresh(): Promise<void>; stop(): void } {
  const { pool, schema } = options
  let messages: FailedMessage[] = []
  let stopped = false

  async function refresh(): Promise<void> {
    try {
      const { rows } = await pool.query<{ queue: string; message_id: string; envelope: Envelope; failures: FailureRecord[]; parked_at: Date }>(listErrors(schema), [listed])
      messages = rows.map((row) => ({ key: failedKey(row.queue, row.message_id), id: row.message_id, module: row.queue, type: row.envelope.type, envelope: row.envelope, failures: row.failures, failedAt: row.failures[0]?.at ?? row.parked_at.getTime() }))
    } catch (error) {
      options.onError(error)
    }
  }
  const timer = setInterval(() => void (stopped || refresh()), options.refreshEveryMs ?? 1_000)
  timer.unref()

  /** Takes each keyed message out of the table and does `work` with it in the same transaction; lists what was done and what was not there. */
  async function takeEach(keys: readonly string[], work: (client: PoolClient, message: FailedMessage) => Promise<void>): Promise<{ done: string[]; notFound: string[] }> {
    const done: string[] = []
    const notFound: string[] = []
    for (const key of keys) {
      const split = key.indexOf(':')
      const module = key.slice(0, split)
      const id = key.slice(split + 1)
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const { rows } = await client.query<{ envelope: Envelope; failures: FailureRecord[]; parked_at: Date }>(takeError(schema), [module, id])
        const row = rows[0]
        if (split <= 0 || !row) {
          await client.query('ROLLBACK')
          notFound.push(key)
          continue
        }
        await work(client, { key, id, module, type: row.envelope.type, envelope: row.envelope, failures: row.failures, failedAt: row.failures[0]?.at ?? row.parked_at.getTime() })
        await client.query('COMMIT')
        done.push(key)
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    }
    await refresh()
    return { done, notFound }
  }

  return {
    refresh,
    stop() {
      stopped = true
      clearInterval(timer)
    },
    list: () => messages,
    size: (module) => (module === undefined ? messages.length : messages.filter((message) => message.module === module).length),
    async retry(keys) {
      const { done, notFound } = await takeEach(keys, async (client, message) => {
        await client.query(enqueue(schema, options.channel, [{ queue: message.module, env: forRetry(message.envelope), delayMs: 0 }]))
      })
      return { retried: done, notFound }
    },
    async delete(keys) {
      const { done, notFound } = await takeEach(keys, (_client, message) => options.archive(message))
      return { deleted: done, notFound }
    },
  }
}

/** A message that failed for good, into the error queue. */
export async function park(pool: Pool, schema: string, module: string, env: Envelope, failures: readonly FailureRecord[]): Promise<void> {
  await pool.query(parkFailed(schema), [module, env.id, JSON.stringify(env), JSON.stringify(failures)])
}
