import type { Clock } from '../clock.js'

/**
 * Holds items until their due time, on one timer for the earliest (a binary min-heap by due time).
 * The items are already durable; this only decides when they are released.
 */
export interface DelayScheduler<T> {
  add(at: number, item: T): void
  readonly size: number
  stop(): void
}

export function createDelayScheduler<T>(clock: Clock, release: (item: T) => void): DelayScheduler<T> {
  const heap: { at: number; seq: number; item: T }[] = []
  let seq = 0
  let timer: unknown
  let timerAt = Number.POSITIVE_INFINITY
  let stopped = false

  const less = (a: number, b: number) => heap[a]!.at < heap[b]!.at || (heap[a]!.at === heap[b]!.at && heap[a]!.seq < heap[b]!.seq)
  const swap = (a: number, b: number) => {
    const t = heap[a]!
    heap[a] = heap[b]!
    heap[b] = t
  }
  function up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!less(i, parent)) return
      swap(i, parent)
      i = parent
    }
  }
  function down(i: number): void {
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && less(left, smallest)) smallest = left
      if (right < heap.length && less(right, smallest)) smallest = right
      if (smallest === i) return
      swap(i, smallest)
      i = smallest
    }
  }
  function pop(): T {
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      down(0)
    }
    return top.item
  }

  function fire(): void {
    timer = undefined
    timerAt = Number.POSITIVE_INFINITY
    const now = clock.now()
    while (heap.length > 0 && heap[0]!.at <= now) release(pop())
    arm()
  }

  function arm(): void {
    if (stopped || heap.length === 0) return
    const next = heap[0]!.at
    if (timer !== undefined && timerAt <= next) return
    if (timer !== undefined) clock.clearTimer(timer)
    timerAt = next
    timer = clock.setTimer(fire, next - clock.now())
  }

  return {
    add(at, item) {
      heap.push({ at, seq: seq++, item })
      up(heap.length - 1)
      arm()
    },
    get size() {
      return heap.length
    },
    stop() {
      stopped = true
      if (timer !== undefined) clock.clearTimer(timer)
      timer = undefined
    },
  }
}
