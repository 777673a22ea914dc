import { describe, expect, it } from 'vitest'
import { newMessageId } from '../../../src/bus/messages/message-id.js'

describe('message ids', () => {
  it('are version 4 UUIDs, all different, across many refills of the random pool', () => {
    const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    const seen = new Set<string>()
    for (let i = 0; i < 100_000; i++) {
      const id = newMessageId()
      expect(id).toMatch(uuidV4)
      seen.add(id)
    }
    expect(seen.size).toBe(100_000)
  })

  it('uses every hex digit in every random position (no stuck bits)', () => {
    const digitsAt = Array.from({ length: 36 }, () => new Set<string>())
    for (let i = 0; i < 5_000; i++) [...newMessageId()].forEach((char, at) => digitsAt[at]!.add(char))
    for (const at of [0, 7, 9, 12, 15, 17, 20, 24, 35]) expect(digitsAt[at]!.size).toBe(16)
    expect([...digitsAt[14]!]).toEqual(['4'])
    expect([...digitsAt[19]!].sort()).toEqual(['8', '9', 'a', 'b'])
  })
})
