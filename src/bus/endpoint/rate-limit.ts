import type { Clock } from '../clock.js'

/**
 * A module's `maxPerSecond`: a token bucket holding 100 ms worth of starts, smooth enough for a downstream
 * that counts per second.
 */
export class StartRateLimit {
  readonly #bucketSize: number
  #tokens: number
  #refilledAt: number
  #refillTimer: unknown

  /** `onRefill`: a start refused for want of a token may be tried again (called once per refusal, by timer). */
  constructor(
    readonly maxPerSecond: number | undefined,
    private readonly clock: Clock,
    private readonly onRefill: () => void,
  ) {
    this.#bucketSize = maxPerSecond === undefined ? 0 : Math.max(1, maxPerSecond / 10)
    this.#tokens = this.#bucketSize
    this.#refilledAt = clock.now()
  }

  /** True when one more delivery may start now (a token is taken); otherwise arms a timer for when it may. */
  mayStart(): boolean {
    const { maxPerSecond } = this
    if (maxPerSecond === undefined) return true
    const now = this.clock.now()
    this.#tokens = Math.min(this.#bucketSize, this.#tokens + ((now - this.#refilledAt) * maxPerSecond) / 1000)
    this.#refilledAt = now
    if (this.#tokens >= 1) {
      this.#tokens--
      return true
    }
    if (this.#refillTimer === undefined) {
      this.#refillTimer = this.clock.setTimer(() => {
        this.#refillTimer = undefined
        this.onRefill()
      }, Math.ceil(((1 - this.#tokens) * 1000) / maxPerSecond))
    }
    return false
  }
}
