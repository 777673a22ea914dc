import type { Clock } from '../clock.js'

export interface VirtualClock extends Clock {
  /** Moves time forward, firing every timer that falls due, in due order. */
  advance(ms: number): void
  /** Timers not yet fired. */
  readonly pending: number
}

/** A clock that moves only when told: delayed retries and timeouts are tested without sleeping. */
export function createVirtualClock(start = Date.UTC(2026, 0, 1)): VirtualClock {
  let now = start
  let seq = 0
  const timers = new Map<number, { at: number; callback: () => void }>()
  return {
    now: () => now,
    setTimer(callback, delayMs) {
      const id = ++seq
      timers.set(id, { at: now + Math.max(0, delayMs), callback })
      return id
    },
    clearTimer(timer) {
      timers.delete(timer as number)
    },
    advance(ms) {
      const end = now + ms
      for (;;) {
        let next: [number, { at: number; callback: () => void }] | undefined
        for (const entry of timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry
        if (!next) break
        timers.delete(next[0])
        now = Math.max(now, next[1].at)
        next[1].callback()
      }
      now = end
    },
    get pending() {
      return timers.size
    },
  }
}
