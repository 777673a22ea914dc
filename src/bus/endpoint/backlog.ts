/**
 * How a module works off what waited for it: its throughput, and the queue it found when it last started.
 * A person who restarts the shop after a burst sees orders stay "placed" for minutes while a rate-limited
 * module (Billing, 40/s) works through thousands of messages; this is what the console shows them instead
 * of leaving them to guess whether anything is stuck.
 */

/** The queue a module found when it last started (a restart, or Start after Stop), taken in arrival order. */
export interface BacklogProgress {
  /** Messages waiting when the module started. */
  total: number
  /** Of those, how many have not been taken from the queue yet. */
  remaining: number
  /** When the module started (ms since epoch). */
  startedAt: number
  /** When the last of them was taken (ms since epoch); undefined while some remain. */
  doneAt?: number
}

/** Throughput is counted in one-second buckets over this window. */
const windowSeconds = 10

/** Deliveries settled per second over the last ten seconds: cheap enough to count every delivery. */
export class ThroughputMeter {
  readonly #counts = new Array<number>(windowSeconds).fill(0)
  readonly #seconds = new Array<number>(windowSeconds).fill(-1)
  #firstAt: number | undefined

  constructor(private readonly now: () => number) {}

  count(): void {
    const now = this.now()
    const second = Math.floor(now / 1000)
    this.#firstAt ??= now
    const slot = second % windowSeconds
    if (this.#seconds[slot] !== second) {
      this.#seconds[slot] = second
      this.#counts[slot] = 0
    }
    this.#counts[slot]!++
  }

  /**
   * Per second over the window (the seconds before this one, and this one so far), or since the first count
   * while the meter is younger than that; 0 until half a second has passed, too soon to tell a pace.
   */
  perSecond(): number {
    if (this.#firstAt === undefined) return 0
    const now = this.now()
    const current = Math.floor(now / 1000)
    const elapsedMs = Math.min(now - this.#firstAt, (windowSeconds - 1) * 1000 + (now % 1000))
    if (elapsedMs < 500) return 0
    let total = 0
    for (let slot = 0; slot < windowSeconds; slot++) {
      if (this.#seconds[slot]! > current - windowSeconds) total += this.#counts[slot]!
    }
    return total / (elapsedMs / 1000)
  }
}

/** Tracks the queue found at a start as the module takes it, in arrival order (what waited goes first). */
export class BacklogTracker {
  #progress: BacklogProgress | undefined

  constructor(private readonly now: () => number) {}

  get progress(): Readonly<BacklogProgress> | undefined {
    return this.#progress
  }

  /** The module starts with `waiting` messages in its queue; none: there is no backlog to show. */
  started(waiting: number): void {
    this.#progress = waiting > 0 ? { total: waiting, remaining: waiting, startedAt: this.now() } : undefined
  }

  /** One delivery was taken from the queue. */
  taken(): void {
    const progress = this.#progress
    if (!progress || progress.remaining === 0) return
    progress.remaining--
    if (progress.remaining === 0) progress.doneAt = this.now()
  }
}

/** How long a queue of `queueLength` takes to clear at `perSecond` (ms); undefined when empty or nothing is settling. */
export function clearsInMs(queueLength: number, perSecond: number): number | undefined {
  if (queueLength === 0 || perSecond <= 0) return undefined
  return Math.round((queueLength / perSecond) * 1000)
}

/** Several processes' backlogs of one module as one: their sums, from the first start to the last one done. */
export function combineBacklogs(backlogs: readonly (Readonly<BacklogProgress> | undefined)[]): BacklogProgress | undefined {
  const present = backlogs.filter((backlog): backlog is BacklogProgress => backlog !== undefined)
  if (present.length === 0) return undefined
  const combined: BacklogProgress = {
    total: present.reduce((sum, backlog) => sum + backlog.total, 0),
    remaining: present.reduce((sum, backlog) => sum + backlog.remaining, 0),
    startedAt: Math.min(...present.map((backlog) => backlog.startedAt)),
  }
  if (combined.remaining === 0) combined.doneAt = Math.max(...present.map((backlog) => backlog.doneAt ?? backlog.startedAt))
  return combined
}
