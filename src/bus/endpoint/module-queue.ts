import type { Clock } from '../clock.js'
import type { DeliveryState } from '../delivery/delivery.js'
import { FifoQueue } from './fifo-queue.js'

/**
 * A queue longer than `inMemory` keeps the messages past that point on disk: each waiting delivery
 * holds only its place in the journal, and the messages are read back in arrival order, a chunk at a
 * time, as the queue works down to them. This bounds a stopped module's memory by its queue's length
 * in small records, not in messages.
 */
export interface QueueSpill {
  /** Deliveries kept with their messages in memory; the queue reads the next chunk back below half of it. */
  inMemory: number
  /** Drops the delivery's message from memory if it can be read back later; returns whether it did. */
  release(state: DeliveryState): boolean
  /** Puts each delivery's message back in memory (those released). */
  load(states: readonly DeliveryState[]): Promise<void>
  /** A read failed: reported, and tried again after `retryAfterMs`. */
  onError(error: unknown): void
  retryAfterMs: number
}

/** Deliveries read back per read: about 100 KiB of typical records, decoded in well under a millisecond. */
const loadChunk = 256

/**
 * A module's queue, in arrival order. `ready` holds deliveries whose messages are in memory; once the queue
 * is long, those behind go to `waiting`, whose messages may be on disk only (the spill), and are read back
 * a chunk at a time as the ready part runs low. Everything goes to `waiting` while it is not empty, so
 * arrival order holds across both.
 */
export class ModuleQueue {
  readonly #ready = new FifoQueue<DeliveryState>()
  readonly #waiting = new FifoQueue<DeliveryState>()
  #onDisk = 0
  #loading = false
  #loadRetryTimer: unknown

  /** `onReady`: a chunk read back (or a failed read's wait over): deliveries may start. */
  constructor(
    private readonly spill: QueueSpill | undefined,
    private readonly clock: Clock,
    private readonly onReady: () => void,
  ) {}

  get length(): number {
    return this.#ready.length + this.#waiting.length
  }

  /** Of `length`, the messages kept on disk only. */
  get onDisk(): number {
    return this.#onDisk
  }

  /** Deliveries that may start now (their messages in memory). */
  get readyLength(): number {
    return this.#ready.length
  }

  push(state: DeliveryState): void {
    const { spill } = this
    if (spill && state.env === undefined) {
      // Recovered from the journal with its message left on disk: read back in its turn.
      this.#onDisk++
      this.#waiting.push(state)
    } else if (spill && (this.#waiting.length > 0 || this.#ready.length >= spill.inMemory)) {
      if (spill.release(state)) this.#onDisk++
      this.#waiting.push(state)
    } else this.#ready.push(state)
  }

  /** The next ready delivery (readyLength > 0). */
  shift(): DeliveryState {
    return this.#ready.shift()!
  }

  /** Brings the next chunk of `waiting` into `ready` when `ready` is down to half of what may stay in memory. */
  readAheadIfLow(): void {
    const { spill } = this
    if (!spill || this.#waiting.length === 0 || this.#ready.length * 2 > spill.inMemory) return
    if (this.#loading || this.#loadRetryTimer !== undefined) return
    this.#loading = true
    // Never past `inMemory`: a restart hands every recovered delivery to `waiting`, and a small limit
    // (tests) must hold there too.
    const chunk = this.#waiting.peek(Math.min(loadChunk, Math.max(1, spill.inMemory - this.#ready.length)))
    let released = 0
    for (const state of chunk) if (state.env === undefined) released++
    spill.load(chunk).then(
      () => {
        this.#loading = false
        this.#onDisk -= released
        for (let i = 0; i < chunk.length; i++) this.#ready.push(this.#waiting.shift()!)
        this.onReady()
      },
      (error: unknown) => {
        this.#loading = false
        spill.onError(error)
        this.#loadRetryTimer = this.clock.setTimer(() => {
          this.#loadRetryTimer = undefined
          this.onReady()
        }, spill.retryAfterMs)
      },
    )
  }
}
