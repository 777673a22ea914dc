import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { createBus, defineEvent, defineModule, handle } from '../../src/bus/index.js'

const PriceChanged = defineEvent('PriceChanged', Type.Object({ sku: Type.String() }))

describe('when an event has two subscribers', () => {
  it('gives each its own delivery: one failing does not hold back or repeat the other', async () => {
    const seen = { catalog: [] as string[], search: [] as string[] }
    let searchBroken = true
    const recoverability = { immediateRetries: 0, delayedRetries: { count: 0, baseDelayMs: 0 } }
    const catalog = defineModule({ name: 'catalog', recoverability, handlers: [handle(PriceChanged, async (m) => void seen.catalog.push(m.sku))] })
    const search = defineModule({
      name: 'search',
      recoverability,
      handlers: [
        handle(PriceChanged, async (m) => {
          if (searchBroken) throw new Error('index offline')
          seen.search.push(m.sku)
        }),
      ],
    })
    const bus = createBus({ modules: [catalog, search], storage: 'memory' })
    await bus.start()
    const { messageId } = await bus.publish(PriceChanged, { sku: 'A-1' })
    await bus.idle()
    expect(seen).toEqual({ catalog: ['A-1'], search: [] })
    expect(bus.admin.failedMessages().map((m) => m.key)).toEqual([`search:${messageId}`])

    searchBroken = false
    await bus.admin.retryFailed([messageId])
    await bus.idle()
    expect(seen).toEqual({ catalog: ['A-1'], search: ['A-1'] })

    // After a restart neither delivery comes back.
    await bus.stop()
    const again = createBus({ modules: [catalog, search], storage: 'memory', fileSystem: bus.fileSystem })
    const report = await again.start()
    await again.idle()
    expect(report).toMatchObject({ queued: 0, failed: 0, delayed: 0 })
    expect(seen).toEqual({ catalog: ['A-1'], search: ['A-1'] })
    await again.stop()
  })
})
