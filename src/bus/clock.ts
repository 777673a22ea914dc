/** Time as the bus sees it. Injected so tests of delayed retries and timeouts advance virtual time. */
export interface Clock {
  now(): number
  setTimer(callback: () => void, delayMs: number): unknown
  clearTimer(timer: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(0, delayMs))
    // Pending delays are durable in the journal; they must not keep a stopping process alive.
    timer.unref()
    return timer
  },
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
}
