import { describe, expect, it } from 'vitest'
import { dropSlowClients } from '../../src/web/observers/slow-clients.js'

const client = (writableLength: number) => {
  const response = { writableLength, destroyed: false, destroy: () => (response.destroyed = true) }
  return response
}

describe('slow SSE clients', () => {
  it('drops and hangs up on the clients with more than the limit waiting, and keeps the others', () => {
    const reading = client(10_000)
    const stalled = client(2_000_000)
    const clients = new Map([
      ['reading', reading],
      ['stalled', stalled],
    ])
    const deregistered: string[] = []
    expect(dropSlowClients(clients, 1024 * 1024, (name) => deregistered.push(name))).toEqual(['stalled'])
    expect(deregistered).toEqual(['stalled'])
    expect(stalled.destroyed).toBe(true)
    expect(reading.destroyed).toBe(false)
    expect([...clients.keys()]).toEqual(['reading'])
  })
})
