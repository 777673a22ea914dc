import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, faultInjection, handle, type Bus } from '../../src/bus/index.js'
import { mailroomConsole, type MailroomConsoleOptions } from '../../src/web/console-plugin.js'
import { NotAuthenticatedError } from '../../src/web/errors.js'

const Ping = defineCommand('Ping', Type.Object({ n: Type.Integer() }))
let bus: Bus | undefined
let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  await bus?.stop()
  app = bus = undefined
})

/**
 * Someone else's Fastify app, with fastify's default options and a route of its own, and the console
 * registered under /mailroom. `routes` collects every route the console adds.
 */
async function hostApp(options: Omit<MailroomConsoleOptions, 'bus'> = {}) {
  bus = createBus({
    storage: 'memory',
    modules: [defineModule({ name: 'pinger', handlers: [handle(Ping, async () => {})] })],
    routes: { Ping: 'pinger' },
    behaviors: [faultInjection()],
  })
  await bus.start()
  app = Fastify()
  const routes: { method: string; url: string }[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (route.url.startsWith('/mailroom')) routes.push({ method, url: route.url })
  })
  app.get('/', async () => ({ host: 'my own app' }))
  await app.register(mailroomConsole, { bus, prefix: '/mailroom', metricsIntervalMs: 60_000, ...options })
  await app.ready()
  return { app, bus, routes }
}

describe('the console as a Fastify plugin, in another app under a prefix', () => {
  it('serves its pages, API, stream, metrics and assets under the prefix, with links that stay under it, and leaves the host alone', async () => {
    const { app, bus } = await hostApp()
    const home = await app.inject({ method: 'GET', url: '/mailroom/' })
    expect(home.statusCode).toBe(200)
    expect(home.headers['content-security-policy']).toContain("script-src 'self'")
    expect(home.body).toContain('data-module="pinger"')
    for (const link of ['href="/mailroom/failed"', 'href="/mailroom/monitoring"', 'src="/mailroom/assets/app.js"', 'data-base="/mailroom"', 'action="/mailroom/actions/modules/pinger/stop"']) expect(home.body).toContain(link)
    // Every link of the page stays under the prefix (the host's own pages are the host's business).
    expect([...home.body.matchAll(/(?:href|src|action)="(\/[^"]*)"/g)].map((match) => match[1]).filter((url) => !url!.startsWith('/mailroom/'))).toEqual([])
    for (const url of ['/mailroom/failed', '/mailroom/monitoring', '/mailroom/metrics', '/mailroom/assets/app.js', '/mailroom/assets/app.css', '/mailroom/api/modules']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(200)
    }
    // Its JSON API works with the host's own validation settings, and keeps its error codes.
    const stopped = await app.inject({ method: 'POST', url: '/mailroom/api/modules/pinger/stop', headers: { 'content-type': 'application/json' }, payload: '{}' })
    expect(stopped.json()).toMatchObject({ name: 'pinger', running: false })
    expect(bus.admin.module('pinger').running).toBe(false)
    const unknown = await app.inject({ method: 'POST', url: '/mailroom/api/modules/nope/stop', headers: { 'content-type': 'application/json' }, payload: '{}' })
    expect(unknown.json()).toMatchObject({ statusCode: 404, code: 'MAILROOM_ERR_WEB_NOT_FOUND' })
    // The host's route: its own answer, none of the console's headers.
    const own = await app.inject({ method: 'GET', url: '/' })
    expect(own.json()).toEqual({ host: 'my own app' })
    expect(own.headers['content-security-policy']).toBeUndefined()
  })

  it('read-only: draws no controls and refuses every state-changing request with 403', async () => {
    const { app, bus, routes } = await hostApp({ readOnly: true })
    const changing = routes.filter((route) => !['GET', 'HEAD', 'OPTIONS'].includes(route.method))
    expect(changing.length).toBeGreaterThanOrEqual(8)
    for (const route of changing) {
      const url = route.url.replace(':name', 'pinger').replace(':action', 'stop')
      const response = await app.inject({ method: route.method as 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{}' })
      expect(response.statusCode, `${route.method} ${url}`).toBe(403)
      expect(response.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_READ_ONLY' })
    }
    expect(bus.admin.module('pinger').running).toBe(true)
    const home = await app.inject({ method: 'GET', url: '/mailroom/' })
    expect(home.statusCode).toBe(200)
    expect(home.body).not.toContain('/actions/')
    expect((await app.inject({ method: 'GET', url: '/mailroom/failed' })).body).not.toContain('Retry')
  })

  it("runs the host's authentication first: an anonymous request is refused, a signed-in one served", async () => {
    const { app } = await hostApp({
      authenticate: (request) => {
        if (request.headers.authorization !== 'Bearer teacher') throw new NotAuthenticatedError()
      },
    })
    for (const url of ['/mailroom/', '/mailroom/api/modules', '/mailroom/api/stream', '/mailroom/metrics']) {
      const anonymous = await app.inject({ method: 'GET', url })
      expect(anonymous.statusCode, url).toBe(401)
      expect(anonymous.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_NOT_AUTHENTICATED' })
    }
    const refused = await app.inject({ method: 'POST', url: '/mailroom/api/modules/pinger/stop', headers: { 'content-type': 'application/json' }, payload: '{}' })
    expect(refused.statusCode).toBe(401)
    const signedIn = await app.inject({ method: 'GET', url: '/mailroom/api/modules', headers: { authorization: 'Bearer teacher' } })
    expect(signedIn.statusCode).toBe(200)
    // The host's own routes are not the console's to guard.
    expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200)
  })

  it('refuses an option it does not take, or no bus, when the host registers it', async () => {
    const host = Fastify()
    await expect(host.register(mailroomConsole, { bus: undefined as never }).ready()).rejects.toThrow("Expected mailroomConsole's `bus` to be a bus made with createBus")
    const other = Fastify()
    bus = createBus({ storage: 'memory', modules: [defineModule({ name: 'pinger', handlers: [handle(Ping, async () => {})] })], routes: { Ping: 'pinger' } })
    await expect(other.register(mailroomConsole, { bus, readonly: true } as never).ready()).rejects.toMatchObject({ code: 'MAILROOM_ERR_WEB_INVALID_OPTION' })
    const third = Fastify()
    await expect(third.register(mailroomConsole, { bus, traceUrl: 'http://localhost:16686/trace/' }).ready()).rejects.toThrow("Expected mailroomConsole's `traceUrl` to be an http(s) address with {traceId} in it")
  })
})
