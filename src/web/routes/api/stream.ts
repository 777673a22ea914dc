import { createChannel, createSession, type Session } from 'better-sse'
import { withTraceLink } from '../../trace-link.js'
import type { FastifyInstance } from 'fastify'
import type { Bus, LogLine } from '../../../bus/index.js'
import { dropSlowClients, type BufferedResponse } from '../../observers/slow-clients.js'
import { TooManyStreamsError } from '../../errors.js'
import { renderFragment } from '../../render.js'
import { describePace } from '../../pace.js'

/** A log line, with the markup the page draws it with. */
export type LogLineShown = LogLine & { html: string }

/** What the panels show, as one SSE event; the host adds fields of its own (the shop: orders, gateway). */
export interface ConsoleSnapshot {
  modules: ReturnType<Bus['admin']['modules']>
  /** Per module: its active saga instances (the first few) and how many there are. */
  sagas: Record<string, { count: number; instances: { saga: string; id: string; data: unknown }[] }>
  logs: LogLineShown[]
  failedCount: number
  /** How messages travel: embedded, or the broker and its connection's state. */
  transport: ReturnType<Bus['admin']['transport']>
  /** The same in words, as the page shows it. */
  transportText: string
  /**
   * The pieces of the panels as the page's templates draw them (views/instances.eta, saga-list.eta, pace.eta): the
   * page's script puts them in as they are, so each piece of markup has one source.
   */
  html: { instances: Record<string, string>; sagas: Record<string, string>; pace: Record<string, string> }
  [extra: string]: unknown
}

/** The panels' data now, with the host's extras. */
export async function snapshot(bus: Bus, logs: LogLine[], extras: () => Promise<Record<string, unknown>> = async () => ({}), traceUrl?: string): Promise<ConsoleSnapshot> {
  const modules = bus.admin.modules()
  const sagas = Object.fromEntries(
    modules.map((module) => {
      const instances = bus.admin.sagas(module.name)
      return [module.name, { count: instances.length, instances: instances.slice(0, sagasShown) }]
    }),
  )
  const transport = bus.admin.transport()
  return {
    ...(await extras()),
    modules,
    sagas,
    logs: logs.map((line) => ({ ...line, html: renderFragment('log-line', withTraceLink(line, traceUrl)) })),
    failedCount: modules.reduce((sum, module) => sum + module.errorQueueLength, 0),
    transport,
    transportText: describeTransport(transport),
    html: {
      instances: Object.fromEntries(modules.map((module) => [module.name, renderFragment('instances', { instances: module.instances ?? [] })])),
      sagas: Object.fromEntries(modules.map((module) => [module.name, renderFragment('saga-list', { instances: sagas[module.name]!.instances })])),
      // Empty when there is nothing to say, so the panel's line hides (.pace:empty).
      pace: Object.fromEntries(modules.map((module) => [module.name, renderFragment('pace', { pace: describePace(module, Date.now()) }).trim()])),
    },
  }
}

/** One line for people: how messages travel. */
export function describeTransport(transport: { kind: string; state: string; address: string; unconfirmed: number }): string {
  if (transport.kind === 'embedded') return 'Transport: embedded, every module in this process'
  const overPostgres = transport.kind === 'postgres'
  const waiting = transport.unconfirmed > 0 ? `, ${transport.unconfirmed} waiting for the ${overPostgres ? 'database' : 'broker'}` : ''
  const name = overPostgres ? 'PostgreSQL queues' : transport.kind === 'amqp' ? 'RabbitMQ' : transport.kind
  return `Transport: ${name} at ${transport.address}, ${transport.state}${waiting}`
}

const tickMs = 250
const sagasShown = 5
const logsPerTick = 100

/**
 * GET /api/stream: Server-Sent Events of everything the panels show. Signals only mark the state
 * dirty; a 250 ms tick sends one snapshot (and the log lines since the last one), so a campaign of
 * thousands of messages costs the browser four updates a second, not thousands.
 */
export async function streamRoutes(app: FastifyInstance): Promise<void> {
  const shop = app.console
  const sendSnapshot = (logs: LogLine[]) => snapshot(shop.bus, logs, shop.snapshotExtras, shop.traceUrl)
  const channel = createChannel()
  const responses = new Map<Session, BufferedResponse>()
  const stats = shop.stream
  const broadcast = (data: unknown, event: string) => {
    // The default, 1 MiB, is about a minute of snapshots: more than that waiting means the client stopped reading.
    stats.dropped += dropSlowClients(responses, stats.maxBufferedBytes, (session) => channel.deregister(session)).length
    stats.clients = responses.size
    channel.broadcast(data, event)
  }
  let pendingLogs: LogLine[] = []
  let dirty = true
  const markDirty = () => (dirty = true)
  const onLog = (line: LogLine) => {
    pendingLogs.push(line)
    if (pendingLogs.length > logsPerTick) pendingLogs.splice(0, pendingLogs.length - logsPerTick)
    dirty = true
  }
  const signals = shop.bus.signals
  signals.on('log', onLog)
  signals.on('message:handled', markDirty)
  signals.on('message:failed', markDirty)
  signals.on('message:retried', markDirty)
  signals.on('message:archived', markDirty)
  signals.on('module:reported', markDirty)
  // Each module's card as /monitoring draws it, from the sampler's history: the page puts them in as they are.
  shop.metrics.onSample((latest) => {
    if (channel.sessionCount === 0) return
    const history = shop.metrics.history()
    const modules = shop.bus.admin.modules()
    broadcast({ latest, html: Object.fromEntries(modules.map((module) => [module.name, renderFragment('monitor-card', { module, series: history[module.name] ?? [] })])) }, 'metrics')
  })

  // Modules in other processes change with no signal here: their first report, the broker's queue lengths,
  // a process that stopped reporting, the broker connection itself. What the panels show of them is
  // compared with what was last sent instead.
  let remoteShown = ''
  const remoteNow = () => {
    const admin = shop.bus.admin
    return JSON.stringify([admin.modules().filter((module) => module.location !== 'here'), admin.transport()])
  }
  let building = false
  const timer = setInterval(() => {
    if (channel.sessionCount === 0) {
      // Nobody to send them to: a page loaded later renders the latest lines itself.
      pendingLogs = []
      return
    }
    if (building) return
    const remote = remoteNow()
    if (!dirty && remote === remoteShown) return
    remoteShown = remote
    dirty = false
    const logs = pendingLogs
    pendingLogs = []
    // Orders are read from the modules' data (on disk): one snapshot at a time.
    building = true
    sendSnapshot(logs)
      .then((data) => broadcast(data, 'snapshot'))
      .catch((error: unknown) => app.log.error(error))
      .finally(() => (building = false))
  }, tickMs)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    signals.off('log', onLog)
    signals.off('message:handled', markDirty)
    signals.off('message:failed', markDirty)
    signals.off('message:retried', markDirty)
    signals.off('message:archived', markDirty)
    signals.off('module:reported', markDirty)
    for (const session of channel.activeSessions) channel.deregister(session)
  })

  app.get('/stream', async (request, reply) => {
    if (responses.size >= stats.maxClients) {
      stats.refused++
      throw new TooManyStreamsError(stats.maxClients)
    }
    // better-sse writes the response head itself; hand it the security headers set so far.
    const headers = Object.fromEntries(Object.entries(reply.getHeaders()).map(([name, value]) => [name, value === undefined ? undefined : String(value)]))
    reply.hijack()
    const session = await createSession(request.raw, reply.raw, { headers, keepAlive: 15_000 })
    session.push(await sendSnapshot([]), 'snapshot')
    channel.register(session)
    responses.set(session, reply.raw)
    stats.clients = responses.size
    session.once('disconnected', () => {
      responses.delete(session)
      stats.clients = responses.size
    })
  })
}
