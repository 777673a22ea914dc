import { describe, expect, it } from 'vitest'
import type { ModuleStatus } from '../../../src/bus/index.js'
import { moduleTotals } from '../../../src/bus/transport/broker-console.js'

const status = (overrides: Partial<ModuleStatus>): ModuleStatus => ({
  name: 'shipping', running: true, concurrency: 4, queueLength: 0, queuedOnDisk: 0, inFlight: 0, delayed: 0, errorQueueLength: 0,
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
})
