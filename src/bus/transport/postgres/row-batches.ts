import type { Pool } from 'pg'
import { deleteRows, releaseRows } from './queue-statements.js'

/**
 * Rows done with (deleted) and rows handed back (visible again), written a batch per round trip: while one
 * statement is on its way, the next ones gather. A write that fails loses nothing: the row's lease runs
 * out, it comes back, and its redelivery is recognised as handled already (or handled then).
 */
export class RowBatches {
  #done: string[] = []
  #back: string[] = []
  #flushing: Promise<void> | undefined

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly noteError: (error: unknown, during: string) => void,
  ) {}

  done(rowId: string): void {
    this.#done.push(rowId)
    this.#kick()
  }

  handBack(rowId: string): void {
    this.#back.push(rowId)
    this.#kick()
  }

  /** Waits until every row given so far was written (or its write failed). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing
  }

  #kick(): void {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined))
  }

  async #flush(): Promise<void> {
    while (this.#done.length > 0 || this.#back.length > 0) {
      const done = this.#done
      const back = this.#back
      this.#done = []
      this.#back = []
      try {
        if (done.length > 0) await this.pool.query(deleteRows(this.schema), [done])
        if (back.length > 0) await this.pool.query(releaseRows(this.schema), [back])
      } catch (error) {
        this.noteError(error, 'removing handled messages from their queue in PostgreSQL (they come back after their lease, and are recognised)')
      }
    }
  }
}
