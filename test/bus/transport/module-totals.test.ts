import { describe, expect, it } from 'vitest'
import type { ModuleStatus } from '../../../src/bus/index.js'
import { moduleTotals } from '../../../src/bus/transport/broker-console.js'

const status = (overrides: Partial<ModuleStatus>): ModuleStatus => ({
  name: 'shipping', running: true, concurrency: 4, queueLength: 0, queuedOnDisk: 0, inFlight: 0, delayed: 0, perSecond: 0, errorQueueLength: 0,
  handled: 0, failed: 0, retries: 0, faultInjected: false, faultRate: 0, maxPerSecond: undefined, averageProcessingTimeMs: 0, averageCriticalTimeMs: 0,
  sagas: ['shipping-policy'], activeSagas: 0, sagasShared: false, location: 'here',
  ...overrides,
})

describe("a module's totals over the processes that run it", () => {
  const now = 1_000_000
  it('adds up the active sagas of instances that each keep their own (journal files)', () => {
    const totals = moduleTotals([['shipping-1', { status: status({ activeSagas: 3, handled: 10 }), at: now }], ['shipping-2', { status: status({ activeSagas: 2, handled: 5 }), at: now }]], now)
    expect(totals).toMatchObject({ activeSagas: 5, handled: 15 })
  })

  it('counts the active sagas of instances sharing one store (PostgreSQL) once, not once per instance', () => {
    const totals = moduleTotals([['shipping-1', { status: status({ activeSagas: 4, sagasShared: true, handled: 10 }), at: now }], ['shipping-2', { status: status({ activeSagas: 4, sagasShared: true, handled: 5 }), at: now }]], now)
    expect(totals).toMatchObject({ activeSagas: 4, handled: 15 })
  })

  it("adds up the processes' pace and the backlogs they found at their starts", () => {
    const first = status({ perSecond: 20, queueLength: 300, backlog: { total: 500, remaining: 300, startedAt: now - 10_000 } })
    const second = status({ perSecond: 20, queueLength: 100, backlog: { total: 400, remaining: 100, startedAt: now - 5_000 } })
    const totals = moduleTotals([['billing-1', { status: first, at: now }], ['billing-2', { status: second, at: now }]], now)
    expect(totals).toMatchObject({ perSecond: 40, queueLength: 400, backlog: { total: 900, remaining: 400, startedAt: now - 10_000 } })
    expect(totals.backlog?.doneAt).toBeUndefined()
  })

  it('shows no backlog of a process that stopped reporting', () => {
    const gone = status({ perSecond: 20, backlog: { total: 500, remaining: 300, startedAt: now - 100_000 } })
    const totals = moduleTotals([['billing-1', { status: gone, at: now - 60_000 }], ['billing-2', { status: status({}), at: now }]], now)
    expect(totals.backlog).toBeUndefined()
    expect(totals.perSecond).toBe(0)
  })
})
