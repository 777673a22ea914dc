import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Bus } from '../../bus/index.js'
import { groupFailures, searchFailures } from '../failed-groups.js'
import { consoleNav, renderPage } from '../render.js'
import { layoutSequence } from '../sequence-diagram.js'
import { ConversationParams } from './api/conversations.js'
import { snapshot } from './api/stream.js'
import { withTraceLink } from '../trace-link.js'

/** The module panels' data as the page renders them (views/panels.eta); the stream keeps them current. */
export async function panelsData(bus: Bus, extras?: () => Promise<Record<string, unknown>>, traceUrl?: string) {
  const now = await snapshot(bus, [], extras, traceUrl)
  const logs = Object.fromEntries(bus.admin.moduleNames().map((name) => [name, bus.admin.logs(name).slice(-12).map((line) => withTraceLink(line, traceUrl))]))
  return { snapshot: now, logs, transportText: now.transportText }
}

/** The console's pages, rendered on the server (Eta escapes every value by default). */
export async function consolePageRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const console = app.console
  const { admin } = console.bus
  const page = (title: string, name: string) => ({ title, page: name, base: console.base, nav: consoleNav(console), readOnly: console.readOnly })

  if (console.home) {
    app.get('/', async (_request, reply) => {
      const csrfToken = await reply.generateCsrf()
      return renderPage(reply, 'modules', { ...page('Modules', 'modules'), csrfToken, ...(await panelsData(console.bus, undefined, console.traceUrl)) })
    })
  }

  app.get('/failed', { schema: { querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), done: Type.Optional(Type.String({ maxLength: 200 })) }) } }, async (request, reply) => {
    const { q = '', done } = request.query
    const csrfToken = await reply.generateCsrf()
    const matching = searchFailures(admin.failedMessages(), q)
    const schedules = admin.moduleNames().map((name) => ({ name, text: admin.retrySchedule(name).text }))
    return renderPage(reply, 'failed', { ...page('Failed messages', 'failed'), csrfToken, q, done, groups: groupFailures(matching), total: matching.length, schedules })
  })

  app.get('/conversations/:id', { schema: { params: ConversationParams } }, async (request, reply) => {
    const { id } = request.params
    const steps = await console.conversations.get(id)
    if (!steps) return renderPage(reply.code(404), 'not-found', { ...page('Not found', ''), what: `conversation ${id}` })
    return renderPage(reply, 'conversation', { ...page('Conversation', ''), id, diagram: layoutSequence(steps, admin.moduleNames()), steps })
  })

  app.get('/monitoring', async (_request, reply) => renderPage(reply, 'monitoring', { ...page('Monitoring', 'monitoring'), modules: admin.modules(), history: console.metrics.history() }))
}
