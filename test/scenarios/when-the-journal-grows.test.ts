import { describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus/index.js'
import { createFixtureModules, TakeOrder } from '../bus/support/shop-fixture.js'

const segmentBytes = 64 * 1024

describe('when the journal grows', () => {
  it('stays bounded over 50,000 messages, because settled segments are compacted away', async () => {
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory', journal: { maxSegmentBytes: segmentBytes } })
    await bus.start()
    const sizes: number[] = []
    // 12,500 orders make 50,000 messages: TakeOrder, OrderTaken, ChargeCard, CardCharged.
    for (let round = 0; round < 25; round++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => bus.send(TakeOrder, { orderId: `o-${round}-${i}`, amount: 1 })))
      await bus.idle()
      sizes.push(bus.admin.journalBytes())
    }
    expect(log.confirmed).toHaveLength(12_500)
    const written = bus.fileSystem.stats.appends
    expect(written).toBeGreaterThan(0)
    // Unbounded, the journals would hold roughly 50,000 records of ~300 bytes: 15 MB.
    const bound = 4 * 4 * segmentBytes
    expect(Math.max(...sizes.slice(5))).toBeLessThan(bound)
    // The later rounds are no bigger than the early ones: the size does not creep up.
    expect(Math.max(...sizes.slice(-5))).toBeLessThanOrEqual(Math.max(...sizes.slice(0, 10)) * 1.5)
    await bus.compact()
    expect(bus.admin.journalBytes()).toBeLessThan(bound)
    await bus.stop()
  })

  it('compacts what a burst left behind once the bus goes quiet, without waiting for the next segment', async () => {
    const { modules, routes } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory', journal: { maxSegmentBytes: segmentBytes } })
    await bus.start()
    // One burst of 2,000 messages seals segments while their messages are still pending.
    await Promise.all(Array.from({ length: 500 }, (_, i) => bus.send(TakeOrder, { orderId: `o-${i}`, amount: 1 })))
    await bus.idle()
    const afterIdle = bus.admin.journalBytes()
    await bus.compact()
    // idle() waited for the pass the quiet bus asked for: a forced pass finds (almost) nothing more to do.
    expect(afterIdle).toBeLessThan(4 * segmentBytes)
    expect(afterIdle - bus.admin.journalBytes()).toBeLessThan(segmentBytes)
    await bus.stop()
  })

  it('loses nothing and doubles nothing when restarted after compaction', async () => {
    const fixture = createFixtureModules()
    const bus = createBus({ modules: fixture.modules, routes: fixture.routes, storage: 'memory', journal: { maxSegmentBytes: 4096 } })
    await bus.start()
    bus.admin.stopModule('notifications')
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => bus.send(TakeOrder, { orderId: `o-${round}-${i}`, amount: 1 })))
      await bus.idle()
      await bus.compact()
    }
    expect(fixture.log.taken).toHaveLength(500)
    await bus.stop()

    const again = createFixtureModules()
    const second = createBus({ modules: again.modules, routes: again.routes, storage: 'memory', journal: { maxSegmentBytes: 4096 }, fileSystem: bus.fileSystem })
    const report = await second.start()
    expect(report.queued).toBe(500)
    await second.idle()
    expect(again.log.taken).toEqual([])
    expect(again.log.charged).toEqual([])
    expect(again.log.notified).toHaveLength(500)
    expect(new Set(again.log.notified).size).toBe(500)
    await second.stop()
  })
})
