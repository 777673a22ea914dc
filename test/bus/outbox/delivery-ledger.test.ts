import { describe, expect, it, vi } from 'vitest'
import type { Envelope } from '../../../src/bus/messages/envelope.js'
import { createDeliveryLedger, destinationRoleLive } from '../../../src/bus/outbox/delivery-ledger.js'

const env = (id: string): Envelope => ({ id, type: 'Tick', headers: {}, body: {} })

describe('the delivery ledger', () => {
  it('holds a broker message’s consumed mark until its time is up, then forgets it', () => {
    const ledger = createDeliveryLedger()
    const segment = ledger.segment('billing', 1)
    const received = ledger.received(env('m-1'), 'billing', 1_000)
    ledger.recorded(segment, 'm-1', 'billing', 'handled', 1_000, { keepUntil: 61_000 })
    // No producer record here (the message came from the broker), yet the mark stays live: a redelivery is still recognised.
    expect(destinationRoleLive(received)).toBe(true)
    expect(segment.live).toBe(1)
    expect(ledger.get('m-1', 'billing')?.kind).toBe('handled')

    ledger.expireHolds(60_999)
    expect(ledger.get('m-1', 'billing')).toBe(received)
    ledger.expireHolds(61_000)
    expect(segment.live).toBe(0)
    expect(ledger.get('m-1', 'billing')).toBeUndefined()
  })

  it('never lets a forwarded mark override the module’s own record, in either order', () => {
    const ledger = createDeliveryLedger()
    const sales = ledger.segment('sales', 1)
    const billing = ledger.segment('billing', 1)
    ledger.produced(sales, 'm-2', env('m-2'), 'billing', undefined, 1_000, 0, 100)
    ledger.produced(sales, 'm-3', env('m-3'), 'billing', undefined, 1_000, 100, 100)

    // m-2: handled here first, the broker's confirm recorded after (a replay may apply them in this order).
    ledger.recorded(billing, 'm-2', 'billing', 'handled', 1_001)
    ledger.recorded(sales, 'm-2', 'billing', 'forwarded', 1_002)
    expect(ledger.get('m-2', 'billing')?.kind).toBe('handled')

    // m-3: forwarded first, then handled: the module's record wins.
    ledger.recorded(sales, 'm-3', 'billing', 'forwarded', 1_001)
    expect(ledger.get('m-3', 'billing')?.kind).toBe('forwarded')
    ledger.recorded(billing, 'm-3', 'billing', 'handled', 1_002)
    expect(ledger.get('m-3', 'billing')?.kind).toBe('handled')
  })

  it('keeps a pending delivery’s envelope and drops a tombstone’s', () => {
    const ledger = createDeliveryLedger()
    const outside = ledger.segment('_outside', 1)
    const state = ledger.produced(outside, 'm-4', env('m-4'), 'billing', undefined, 1_000, 0, 100)
    expect(state.env?.id).toBe('m-4')
    ledger.recorded(ledger.segment('billing', 1), 'm-4', 'billing', 'handled', 1_001)
    expect(state.env).toBeUndefined()
  })

  it('takes a held delivery as it is, without looking it up by id (a commit holds the delivery it writes about)', () => {
    const ledger = createDeliveryLedger()
    const sales = ledger.segment('sales', 1)
    const held = ledger.produced(sales, 'm-5', env('m-5'), 'billing', undefined, 1_000, 0, 100)
    const lookups = vi.spyOn(Map.prototype, 'get')
    try {
      const state = ledger.recorded(ledger.segment('billing', 1), 'm-5', 'billing', 'handled', 1_001, undefined, held)
      expect(state).toBe(held)
      // A million queued deliveries make each lookup by id a cache miss: the one this call saves.
      expect(lookups.mock.calls.filter(([key]) => key === 'm-5')).toEqual([])
    } finally {
      lookups.mockRestore()
    }
    expect(ledger.get('m-5', 'billing')?.kind).toBe('handled')
    expect(sales.live).toBe(0)
  })

  it('looks the delivery up when the held state is about another one', () => {
    const ledger = createDeliveryLedger()
    const sales = ledger.segment('sales', 1)
    const m6 = ledger.produced(sales, 'm-6', env('m-6'), 'billing', undefined, 1_000, 0, 100)
    const m7 = ledger.produced(sales, 'm-7', env('m-7'), 'billing', undefined, 1_000, 100, 100)
    expect(ledger.recorded(ledger.segment('billing', 1), 'm-7', 'billing', 'handled', 1_001, undefined, m6)).toBe(m7)
    expect(m6.kind).toBeUndefined()
    expect(m7.kind).toBe('handled')
  })
})
