import { afterEach, describe, expect, it } from 'vitest'
import { createFaultyFileSystem } from '../bus/support/faulty-file-system.js'
import { startConsole, type ConsoleUnderTest } from './support/console-app.js'

let running: ConsoleUnderTest | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const post = (url: string, body: unknown) => ({ method: 'POST' as const, url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })

describe('when the disk fails under the API', () => {
  it('answers 503 while appends fail, loses nothing it acknowledged, and takes orders again once the disk recovers', async () => {
    const disk = createFaultyFileSystem()
    running = await startConsole({ fileSystem: disk.fs })
    const { app, shop } = running
    const before = (await app.inject(post('/api/orders', {}))).json()

    disk.fail('_outside')
    const refused = await app.inject(post('/api/orders', {}))
    expect(refused.statusCode).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.json()).toMatchObject({ code: 'MAILROOM_ERR_JOURNAL_WRITE_FAILED', error: 'Service Unavailable' })
    expect(refused.json().message).toContain('the message was not accepted')
    const batch = await app.inject(post('/api/orders/batch', { count: 3 }))
    expect(batch.statusCode).toBe(503)

    disk.heal('_outside')
    const after = (await app.inject(post('/api/orders', {}))).json()
    await shop.bus.idle()
    // The orders acknowledged with 202 all ship; the refused ones were never accepted and never appear.
    for (const order of [before, after]) expect((await shop.order(order.orderId))?.shipping).toMatchObject({ shipped: true })
    expect(shop.bus.admin.module('sales').handled).toBe(2)
  })
})
