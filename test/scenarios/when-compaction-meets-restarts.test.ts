import { describe, expect, it } from 'vitest'
import { createBus, type Bus, type FileSystem } from '../../src/bus/index.js'
import { createMemoryFileSystem } from '../../src/bus/files/memory-file-system.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { createFixtureLog, createFixtureModules, TakeOrder, type FixtureLog } from '../bus/support/shop-fixture.js'

/** A seeded generator, so a failing interleaving can be replayed from the seed in the test name. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const moduleNames = ['orders', 'payments', 'notifications']

describe('when compaction meets restarts, stopped modules, failures and retries', () => {
  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('handles every message exactly once (seed %i)', async (seed) => {
    const next = random(seed)
    const fileSystem: FileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    const log: FixtureLog = createFixtureLog()
    let faultRate = 0
    const build = (): Bus => {
      const fixture = createFixtureModules({
        log,
        remindAfterMs: 5_000,
        recoverability: { immediateRetries: 0, delayedRetries: { count: 1, baseDelayMs: 1_000 } },
        ordersFault: () => {
          if (next() < faultRate) throw new Error('random fault')
        },
      })
      return createBus({ modules: fixture.modules, routes: fixture.routes, storage: 'memory', fileSystem, clock, journal: { maxSegmentBytes: 2048 } })
    }
    let bus = build()
    await bus.start()
    let orders = 0
    for (let step = 0; step < 60; step++) {
      const action = next()
      if (action < 0.45) {
        const count = 1 + Math.floor(next() * 20)
        await Promise.all(Array.from({ length: count }, () => bus.send(TakeOrder, { orderId: `o-${orders++}`, amount: 1 })))
      } else if (action < 0.55) {
        bus.admin.stopModule(moduleNames[Math.floor(next() * 3)]!)
      } else if (action < 0.65) {
        bus.admin.startModule(moduleNames[Math.floor(next() * 3)]!)
      } else if (action < 0.72) {
        await bus.compact()
      } else if (action < 0.8) {
        await bus.stop()
        bus = build()
        await bus.start()
      } else if (action < 0.86) {
        faultRate = faultRate === 0 ? 0.3 : 0
      } else if (action < 0.92) {
        await bus.idle()
        await bus.admin.retryAllFailed()
      } else {
        clock.advance(Math.floor(next() * 6_000))
      }
      await bus.idle()
    }
    // Settle: no faults, every module running, every delay due, every failure retried.
    faultRate = 0
    for (const name of moduleNames) bus.admin.startModule(name)
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000)
      await bus.idle()
      await bus.admin.retryAllFailed()
      await bus.idle()
    }
    await bus.compact()
    await bus.stop()
    bus = build()
    await bus.start()
    await bus.idle()

    const expected = Array.from({ length: orders }, (_, i) => `o-${i}`).sort()
    for (const key of ['taken', 'charged', 'confirmed', 'notified', 'reminded'] as const) {
      expect([...log[key]].sort(), `${key} (seed ${seed})`).toEqual(expected)
    }
    await bus.compact()
    expect(bus.admin.journalBytes()).toBeLessThan(64 * 1024)
    await bus.stop()
  })
})
