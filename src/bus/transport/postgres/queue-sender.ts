import type { Pool } from 'pg'
import type { Delivery, TransportHost } from '../transport.js'
import { enqueue, type QueuedRow } from './queue-statements.js'

const retryDelaysMs = [100, 500, 1_000, 2_000, 5_000]
/** Deliveries written per INSERT. */
const batchSize = 500

export interface QueueSenderDeps {
  pool: Pool
  schema: string
  channel: string
  host: TransportHost
  noteError(error: unknown, during: string): void
  noteSuccess(): void
}

/**
 * Deliveries on their way into their queues: a batch per INSERT (what arrives while one is on its way goes
 * in the next), each marked forwarded once written. A failed INSERT is tried again with backoff, the
 * deliveries kept meanwhile (the bus is not idle while any are).
 */
export class QueueSender {
  readonly #relaying = new Set<Delivery>()
  #waiting: Delivery[] = []
  #sending: Promise<void> | undefined
  #stopped = false

  constructor(private readonly deps: QueueSenderDeps) {}

  get pending(): number {
    return this.#relaying.size
  }

  send(deliveries: readonly Delivery[]): void {
    for (const delivery of deliveries) {
      if (this.#relaying.has(delivery)) continue
      this.#relaying.add(delivery)
      this.#waiting.push(delivery)
    }
    this.#kick()
  }

  /** Sends nothing more once the batch on its way is written (or `timeoutMs` passed): the rest go at the next start. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.#sending) await within(this.#sending, timeoutMs)
    this.#stopped = true
  }

  #kick(): void {
    this.#sending ??= this.#sendWaiting().finally(() => {
      this.#sending = undefined
      if (this.#waiting.length > 0 && !this.#stopped) this.#kick()
    })
  }

  #row(delivery: Delivery): QueuedRow {
    if (!delivery.env) throw new Error(`delivery ${delivery.id} has no message to send`)
    return { queue: delivery.module, env: delivery.env, failures: delivery.failures, delayMs: delivery.at === undefined ? 0 : Math.max(0, delivery.at - this.deps.host.now()) }
  }

  async #sendWaiting(): Promise<void> {
    const { deps } = this
    let attempt = 0
    while (this.#waiting.length > 0 && !this.#stopped) {
      const group = this.#waiting.splice(0, batchSize)
      try {
        await deps.pool.query(enqueue(deps.schema, deps.channel, group.map((delivery) => this.#row(delivery))))
        deps.noteSuccess()
        attempt = 0
      } catch (error) {
        deps.noteError(error, `sending ${group.length} message(s) to their queues in PostgreSQL (tried again)`)
        this.#waiting.unshift(...group)
        await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[Math.min(attempt++, retryDelaysMs.length - 1)]))
        continue
      }
      try {
        await deps.host.forwarded(group)
      } catch (error) {
        // Not recorded: they are sent again at the next start, and their receivers drop the copies.
        deps.host.onError(error, 'recording messages the PostgreSQL queues took')
      }
      for (const delivery of group) this.#relaying.delete(delivery)
      if (this.#relaying.size === 0) deps.host.drained()
    }
  }
}

/** Waits for `promise`, but no longer than `ms`. */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}
