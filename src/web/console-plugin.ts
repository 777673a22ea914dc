import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Bus } from '../bus/index.js'
import type { ConsoleContext, ConsoleLink } from './context.js'
import { handleError } from './error-handler.js'
import { ConsoleOptionError, ReadOnlyError } from './errors.js'
import { createConversationLog } from './observers/conversation-log.js'
import { createMetricsSampler } from './observers/metrics-sampler.js'
import { consoleOperations } from './operations.js'
import { requireSameOriginJson } from './plugins/same-origin-json.js'
import { securityHeaders } from './plugins/security.js'
import { isTraceUrl } from './trace-link.js'
import { conversationRoutes } from './routes/api/conversations.js'
import { failedRoutes } from './routes/api/failed.js'
import { moduleRoutes } from './routes/api/modules.js'
import { streamRoutes } from './routes/api/stream.js'
import { serveAssets } from './routes/assets.js'
import { consoleActionRoutes } from './routes/console-actions.js'
import { consolePageRoutes } from './routes/console-pages.js'
import { metricsRoutes } from './routes/metrics.js'

export interface MailroomConsoleOptions {
  bus: Bus
  /** Show, never change: the controls are not drawn and every state-changing request is refused with 403. @default false */
  readOnly?: boolean
  /**
   * The host's authentication, run first on every request of the console. Refuse by throwing an error
   * with a `statusCode` (401, 403), or by sending a reply.
   */
  authenticate?: (request: FastifyRequest, reply: FastifyReply) => unknown
  /** The console's own page of module panels at its root. @default true */
  home?: boolean
  /** Pages of the host's, first in the console's menu. @default [] */
  links?: readonly ConsoleLink[]
  /** Fields the host adds to every live snapshot, for its own pages' scripts. */
  snapshotExtras?: () => Promise<Record<string, unknown>>
  /** Sample metrics this often. @default 1000 */
  metricsIntervalMs?: number
  /** A live-stream client with more than this many bytes waiting has stopped reading and is dropped. @default 1 MiB */
  streamMaxBufferedBytes?: number
  /** Live-stream clients at once; one more is refused with 503 and `Retry-After`. @default 100 */
  streamMaxClients?: number
  /**
   * A trace viewer's address for one trace, `{traceId}` where the id goes: each log line written while a
   * message's span was recorded links to its trace.
   * @example 'http://localhost:16686/trace/{traceId}' (Jaeger)
   */
  traceUrl?: string
}

/** Fastify's own register options, which reach a plugin beside its own. */
const registerOptions = ['prefix', 'logLevel', 'logSerializers']
const ownOptions = ['bus', 'readOnly', 'authenticate', 'home', 'links', 'snapshotExtras', 'metricsIntervalMs', 'streamMaxBufferedBytes', 'streamMaxClients', 'traceUrl']

function checkOptions(options: MailroomConsoleOptions): void {
  for (const key of Object.keys(options)) {
    if (!ownOptions.includes(key) && !registerOptions.includes(key)) throw new ConsoleOptionError(key, `one of ${ownOptions.join(', ')}`, key)
  }
  if (typeof options.bus?.admin?.modules !== 'function') throw new ConsoleOptionError('bus', 'a bus made with createBus', options.bus)
  if (options.authenticate !== undefined && typeof options.authenticate !== 'function') throw new ConsoleOptionError('authenticate', 'a function (request, reply)', options.authenticate)
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') throw new ConsoleOptionError('readOnly', 'true or false', options.readOnly)
  if (options.traceUrl !== undefined && !isTraceUrl(options.traceUrl)) throw new ConsoleOptionError('traceUrl', 'an http(s) address with {traceId} in it', options.traceUrl)
}

/**
 * The console as a Fastify plugin: `app.register(mailroomConsole, { bus, prefix: '/mailroom' })` mounts the
 * module panels, failed messages (retry, delete), conversations, monitoring, /metrics and the live stream
 * into any Fastify app, as bull-board and the pg-boss dashboard do. Everything it needs (security headers
 * with a strict CSP, cookies and CSRF for its forms, its error handler) it sets up in its own scope, so the
 * host's other routes are untouched.
 */
export async function mailroomConsole(app: FastifyInstance, options: MailroomConsoleOptions): Promise<void> {
  checkOptions(options)
  const { bus } = options
  const context: ConsoleContext = {
    bus,
    operations: consoleOperations(bus),
    conversations: createConversationLog(bus),
    metrics: createMetricsSampler(bus, options.metricsIntervalMs === undefined ? {} : { intervalMs: options.metricsIntervalMs }),
    stream: { maxBufferedBytes: options.streamMaxBufferedBytes ?? 1024 * 1024, maxClients: options.streamMaxClients ?? 100, clients: 0, dropped: 0, refused: 0 },
    base: app.prefix,
    readOnly: options.readOnly ?? false,
    home: options.home ?? true,
    links: options.links ?? [],
    snapshotExtras: options.snapshotExtras ?? (async () => ({})),
    ...(options.traceUrl !== undefined ? { traceUrl: options.traceUrl } : {}),
  }
  app.decorate('console', context)
  app.addHook('onClose', async () => {
    context.metrics.stop()
    context.conversations.stop()
  })

  // The host's authentication first; then read-only; then the console's own headers.
  const authenticate = options.authenticate
  if (authenticate) {
    app.addHook('onRequest', async (request, reply) => {
      await authenticate(request, reply)
      if (reply.sent) return reply
    })
  }
  if (context.readOnly) {
    app.addHook('onRequest', async (request) => {
      if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') throw new ReadOnlyError()
    })
  }
  const headers = securityHeaders()
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers)
  })
  // What the host app already has (the shop registers them for its own forms) is not registered twice.
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)
  if (!app.hasDecorator('csrfProtection')) await app.register(fastifyCsrf, { cookieOpts: { path: app.prefix || '/', sameSite: 'strict', httpOnly: true } })
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 })
  app.setErrorHandler(handleError)

  await app.register(async (api) => {
    api.addHook('onRequest', requireSameOriginJson)
    await api.register(moduleRoutes)
    await api.register(failedRoutes)
    await api.register(conversationRoutes)
    await api.register(streamRoutes)
  }, { prefix: '/api' })
  await app.register(consoleActionRoutes, { prefix: '/actions' })
  await app.register(consolePageRoutes)
  await app.register(metricsRoutes)
  await app.register(async (assets) => serveAssets(assets, ['app.js', 'app.css']), { prefix: '/assets' })
}
