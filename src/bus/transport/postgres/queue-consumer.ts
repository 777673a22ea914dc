import type { Pool } from 'pg'
import type { FailureRecord } from '../../delivery/delivery.js'
import { asEnvelope, type Envelope } from '../../messages/envelope.js'
import type { ReceiveOutcome } from '../transport.js'
import { claim, moveUndecodable, nextVisibleIn } from './queue-statements.js'

/** A row this consumer holds: claimed by it, or written already claimed for it (see adopt). */
export interface ClaimedRow {
  id: string
  envelope: unknown
  failures: FailureRecord[] | null
}

export interface QueueConsumerDeps {
  pool: Pool
  schema: string
  /** The module whose queue this is. */
  module: string
  /** Who claims (this process): its rows come back to anyone once their lease is over. */
  consumerId: string
  /** How many rows it holds at once (claimed, not yet done with). */
  prefetch: number
  leaseMs: number
  /** How often it looks without being woken (a lost NOTIFY, a row that became visible). */
  pollEveryMs: number
  /** Hands a row's message to the bus; `receipt` (the row's id) lets a persistence in this database consume the row itself. */
  receive(env: Envelope, failures: FailureRecord[] | undefined, receipt: string): Promise<ReceiveOutcome>
  /** A row done with: deleted (batched by the caller). */
  done(rowId: string): void
  /** A row handed back: visible to anyone now (batched by the caller). */
  handBack(rowId: string): void
  noteError(error: unknown, during: string): void
  noteSuccess(): void
}

/**
 * One local module consuming its queue: claims visible rows in batches (`FOR UPDATE SKIP LOCKED`, so
 * consumers in other processes take other rows), each under a lease; hands each to the bus; a row is
 * deleted once its outcome is durable here, handed back if the bus could not take it, and comes back by
 * itself if this process dies. Woken by NOTIFY, by a row's outcome freeing a slot while rows may be left,
 * and by a timer.
 */
export class QueueConsumer {
  #held = 0
  #claiming: Promise<void> | undefined
  #again = false
  #timer: NodeJS.Timeout | undefined
  #stopped = false
  /** The last claim took all it had room for: more rows may wait, so a freed slot claims again at once. */
  #maybeMore = false
  /** Slots kept for rows a transaction here is writing already claimed for this consumer (see adopt). */
  #reserved = 0
  readonly #handling = new Set<Promise<void>>()

  constructor(private readonly deps: QueueConsumerDeps) {}

  start(): void {
    this.wake()
  }

  /** Looks for rows now (a NOTIFY for this queue, a freed slot, the timer). */
  wake(): void {
    if (this.#stopped) return
    if (this.#claiming) {
      this.#again = true
      return
    }
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#claiming = this.#claimWhileRoom().finally(() => {
      this.#claiming = undefined
      if (this.#again) {
        this.#again = false
        this.wake()
      }
    })
  }

  async #claimWhileRoom(): Promise<void> {
    const { deps } = this
    let nextInMs = deps.pollEveryMs
    try {
      while (!this.#stopped && this.#held + this.#reserved < deps.prefetch) {
        const room = deps.prefetch - this.#held - this.#reserved
        const { rows } = await deps.pool.query<ClaimedRow>(claim(deps.schema), [deps.module, room, deps.leaseMs, deps.consumerId])
        deps.noteSuccess()
        this.#maybeMore = rows.length === room
        for (const row of rows) this.#handle(row)
        if (rows.length === 0) {
          // Nothing visible: sleep until the next row becomes visible (a deferred one), at most a poll's length.
          const next = await deps.pool.query<{ ms: number | null }>(nextVisibleIn(deps.schema), [deps.module])
          const ms = next.rows[0]?.ms
          if (ms !== null && ms !== undefined) nextInMs = Math.min(nextInMs, Math.max(5, Math.ceil(Number(ms))))
          break
        }
        // Fewer than there was room for: the queue is drained for now (a row done with, or a NOTIFY, wakes it).
        if (rows.length < room) break
      }
    } catch (error) {
      this.#maybeMore = true
      deps.noteError(error, `taking messages from the ${deps.module} queue in PostgreSQL (tried again)`)
    }
    if (!this.#stopped) {
      // Not unref'd, and set even when it holds all it may: a consumer keeps its process alive as a broker's
      // connection does. With every connection to the database dropped and its rows waiting out the bus's
      // (unref'd) backoff, nothing else might, and a process of modules would exit (code 0) mid-run.
      this.#timer = setTimeout(() => this.wake(), nextInMs)
    }
  }

  /** Keeps a slot for a row about to be written already claimed by this consumer; false when it has no room. */
  reserve(): boolean {
    if (this.#stopped || this.#held + this.#reserved >= this.deps.prefetch) return false
    this.#reserved++
    return true
  }

  /** The row a slot was kept for was not written after all (its transaction did not commit). */
  unreserve(): void {
    this.#reserved--
    if (this.#maybeMore) this.wake()
  }

  /** The row a slot was kept for committed, claimed by this consumer: handled as if claimed (handed back if it stopped meanwhile). */
  adopt(row: ClaimedRow): void {
    this.#reserved--
    if (this.#stopped) this.deps.handBack(row.id)
    else this.#handle(row)
  }

  #handle(row: ClaimedRow): void {
    this.#held++
    const handling = this.#outcomeOf(row).finally(() => {
      this.#held--
      this.#handling.delete(handling)
      // A queue found drained has nothing more for this slot: its next row comes with a NOTIFY (or the timer),
      // and a claim now would only delay that one's.
      if (this.#maybeMore) this.wake()
    })
    this.#handling.add(handling)
  }

  async #outcomeOf(row: ClaimedRow): Promise<void> {
    const { deps } = this
    const env = asEnvelope(row.envelope)
    if (!env) {
      // Not a Mailroom message (something else wrote the row): moved aside with the reason, never dropped.
      await deps.pool.query(moveUndecodable(deps.schema), [row.id, 'not a Mailroom envelope (id, type, string headers, body)']).catch((error: unknown) => deps.noteError(error, `moving an undecodable row of the ${deps.module} queue aside`))
      return
    }
    let outcome: ReceiveOutcome
    try {
      outcome = await deps.receive(env, row.failures ?? undefined, row.id)
    } catch (error) {
      deps.noteError(error, `handing ${env.type} to ${deps.module}`)
      outcome = 'requeue'
    }
    // 'consumed': the handler's transaction deleted the row already.
    if (outcome === 'ack') deps.done(row.id)
    else if (outcome === 'requeue') deps.handBack(row.id)
  }

  /** Claims nothing more, and waits (up to `timeoutMs`) for the rows it holds to be done with or handed back. */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#claiming
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(this.#handling), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }
}
