import { describe, expect, it } from 'vitest'
import type { ModuleStatus } from '../../src/bus/index.js'
import { describePace, duration } from '../../src/web/pace.js'

const now = 1_000_000
const billing = (fields: Partial<ModuleStatus>): ModuleStatus => ({
  name: 'billing', running: true, concurrency: 4, queueLength: 0, queuedOnDisk: 0, inFlight: 0, delayed: 0, perSecond: 0, errorQueueLength: 0,
  handled: 0, failed: 0, retries: 0, faultInjected: false, faultRate: 0, maxPerSecond: 40, averageProcessingTimeMs: 0, averageCriticalTimeMs: 0,
  sagas: [], activeSagas: 0, sagasShared: false, location: 'here', ...fields,
})

describe("a module panel's pace line", () => {
  it('says how much of the backlog a start found is left, and when the queue clears at the current pace', () => {
    const status = billing({ queueLength: 4_000, perSecond: 40, clearsInMs: 100_000, backlog: { total: 6_000, remaining: 3_000, startedAt: now - 75_000 } })
    expect(describePace(status, now)).toEqual({ text: 'Backlog since start: 3,000 of 6,000 left · queue clears in about 1 min 40 s at 40/s', done: 0.5 })
  })

  it('says how long the backlog took, for a minute after it was worked off', () => {
    const backlog = { total: 6_000, remaining: 0, startedAt: now - 200_000, doneAt: now - 50_000 }
    expect(describePace(billing({ backlog }), now)).toEqual({ text: 'Backlog since start: 6,000 worked off in 2 min 30 s', done: 1 })
    expect(describePace(billing({ backlog }), now + 20_000)).toBeUndefined()
  })

  it('says when a queue clears without a backlog, and nothing when nothing waits', () => {
    expect(describePace(billing({ queueLength: 120, perSecond: 40, clearsInMs: 3_000 }), now)?.text).toBe('120 waiting · queue clears in about 3 s at 40/s')
    expect(describePace(billing({}), now)).toBeUndefined()
  })

  it('says a stopped module is stopped rather than guessing when its backlog clears', () => {
    const status = billing({ running: false, queueLength: 500, backlog: { total: 500, remaining: 500, startedAt: now } })
    expect(describePace(status, now)?.text).toBe('Backlog since start: 500 of 500 left · stopped')
  })

  it.each([
    [400, '1 s'],
    [89_000, '89 s'],
    [125_000, '2 min 5 s'],
    [3_780_000, '1 h 3 min'],
  ])('words %i ms as %s', (ms, text) => {
    expect(duration(ms)).toBe(text)
  })
})
