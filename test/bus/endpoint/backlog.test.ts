import { describe, expect, it } from 'vitest'
import { BacklogTracker, clearsInMs, ThroughputMeter } from '../../../src/bus/endpoint/backlog.js'

describe('ThroughputMeter', () => {
  it('counts per second over the last ten seconds, or since its first count while younger', () => {
    let now = 100_000
    const meter = new ThroughputMeter(() => now)
    expect(meter.perSecond()).toBe(0)
    // 40 a second, one every 25 ms.
    const run = (ms: number) => {
      for (const end = now + ms; now < end; now += 25) meter.count()
    }
    run(300)
    expect(meter.perSecond()).toBe(0)
    run(1_700)
    expect(meter.perSecond()).toBeCloseTo(40, 0)
    run(30_000)
    expect(meter.perSecond()).toBeCloseTo(40, 0)
    // A quiet spell: the old seconds leave the window.
    now += 20_000
    expect(meter.perSecond()).toBe(0)
  })
})

describe('BacklogTracker', () => {
  it('counts down what the start found, and notes when the last of it was taken', () => {
    let now = 5_000
    const backlog = new BacklogTracker(() => now)
    backlog.started(2)
    backlog.taken()
    expect(backlog.progress).toEqual({ total: 2, remaining: 1, startedAt: 5_000 })
    now = 6_000
    backlog.taken()
    backlog.taken()
    expect(backlog.progress).toEqual({ total: 2, remaining: 0, startedAt: 5_000, doneAt: 6_000 })
    backlog.started(0)
    expect(backlog.progress).toBeUndefined()
  })
})

describe('clearsInMs', () => {
  it.each([
    [400, 40, 10_000],
    [0, 40, undefined],
    [400, 0, undefined],
  ])('a queue of %i at %i/s clears in %s ms', (queue, perSecond, expected) => {
    expect(clearsInMs(queue, perSecond)).toBe(expected)
  })
})
