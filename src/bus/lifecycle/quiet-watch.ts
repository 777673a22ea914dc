/**
 * When the bus is quiet: no work of its own under way (a send being committed, an admin retry) and
 * nothing in its modules or its transport. `bus.idle()` and `bus.stop()` wait on it; whatever may end
 * the last work calls `notify()`.
 */
export class QuietWatch {
  private work = 0
  private waiters: (() => void)[] = []

  /** `othersQuiet`: the modules and the transport have nothing left. */
  constructor(private readonly othersQuiet: () => boolean) {}

  isQuiet(): boolean {
    return this.work === 0 && this.othersQuiet()
  }

  begin(): void {
    this.work++
  }

  end(): void {
    this.work--
    // After the caller's continuation has run, so deliveries it dispatched are counted first.
    queueMicrotask(() => this.notify())
  }

  /** Counts `work` as the bus's own while it runs. */
  async tracked<T>(work: () => Promise<T>): Promise<T> {
    this.begin()
    try {
      return await work()
    } finally {
      this.end()
    }
  }

  /** Wakes the waiters if the bus may have become quiet. */
  notify(): void {
    if (this.waiters.length === 0 || !this.isQuiet()) return
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }

  /** Resolves once the bus is quiet. */
  async quiet(): Promise<void> {
    while (!this.isQuiet()) await this.next()
  }

  /** Resolves once none of the bus's own work is under way (its modules may still be busy). */
  async ownWorkDone(): Promise<void> {
    while (this.work > 0) await this.next()
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve))
  }
}
