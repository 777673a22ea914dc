import { Type } from '@sinclair/typebox'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, faultInjection, handle } from '../../src/bus/index.js'
import { mailroomConsole } from '../../src/web/console-plugin.js'
import { artifactsDir, browserAvailable, launchBrowser } from './support/browser.js'

const Ping = defineCommand('Ping', Type.Object({ n: Type.Integer() }))
const available = browserAvailable()

describe.runIf(available)('the console plugin under a prefix of another app, in a real browser', { timeout: 60_000 }, () => {
  it('goes live over its own stream, and its forms act on the bus', async () => {
    const bus = createBus({ storage: 'memory', modules: [defineModule({ name: 'pinger', handlers: [handle(Ping, async ({ n }, context) => context.log.info(`Pong ${n}`))] })], routes: { Ping: 'pinger' }, behaviors: [faultInjection()] })
    await bus.start()
    const app = Fastify()
    app.get('/', async () => 'the host app')
    await app.register(mailroomConsole, { bus, prefix: '/ops/mailroom' })
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } })
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
      await page.goto(`${url}/ops/mailroom/`)
      await page.locator('[data-live].on').waitFor()
      // The log line arrives over the prefixed stream.
      await bus.send(Ping, { n: 7 })
      await page.locator('[data-module="pinger"] [data-log] li', { hasText: 'Pong 7' }).waitFor()
      // A form posts to the prefixed action with its CSRF token.
      await page.locator('[data-module="pinger"]').getByRole('button', { name: 'Stop' }).click()
      await page.locator('[data-module="pinger"] [data-field="state"]', { hasText: 'stopped' }).waitFor()
      expect(bus.admin.module('pinger').running).toBe(false)
      await page.getByRole('link', { name: /Failed messages/ }).click()
      expect(new URL(page.url()).pathname).toBe('/ops/mailroom/failed')
      await page.screenshot({ path: new URL('console-plugin.png', artifactsDir).pathname, fullPage: true })
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      await app.close()
      await bus.stop()
    }
  })
})
