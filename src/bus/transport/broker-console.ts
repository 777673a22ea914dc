import { randomUUID } from 'node:crypto'
import type { Connection, Consumer, Publisher } from 'rabbitmq-client'
import { hostname } from 'node:os'
import type { ModuleInstance, ModuleStatus } from '../admin/admin-api.js'
import type { LogLine } from '../signals.js'
import { combineBacklogs, type BacklogProgress } from '../endpoint/backlog.js'
import { readQueueLengths } from './amqp-wire.js'
import type { ConsoleNode, ForwardedSignal, ModuleCommand, RemoteModules } from '../console-link/console-link.js'

interface StatusReport {
  /** The reporting process (host and pid): several may run one module. */
  instance?: string
  modules: ModuleStatus[]
  logs: Record<string, LogLine[]>
  signals?: ForwardedSignal[]
  views?: Record<string, Record<string, unknown>>
}

export interface BrokerConsoleOptions {
  connection: Connection
  node: ConsoleNode
  /** Fanout exchange every process reports its modules to, once a second. */
  statusExchange: string
  /** Direct exchange that carries a person's commands (stop, start, faults) to the module's process. */
  controlExchange: string
  /** Name prefix of this process's own (exclusive, temporary) queues. */
  queuePrefix: string
  /** This process hosts the console: it listens to every report and sends commands. */
  isConsole: boolean
  queueOf: (module: string) => string
  reportEveryMs?: number
}

/** A report older than this means the module's process is gone (or cut off). */
const staleAfterMs = 5_000

/** What the reporting side and the console side of one process share: the connection, one publisher, what to stop. */
interface ConsoleChannel {
  options: BrokerConsoleOptions
  publisher: Publisher
  exchanges: { exchange: string; type: string; durable: boolean }[]
  /** A name for a queue of this process's own (exclusive, temporary). */
  ownQueue: (purpose: string) => string
  consumers: Consumer[]
  timers: NodeJS.Timeout[]
}

/**
 * The console's view of modules that run in other processes, over the broker: each process reports its
 * modules' status and latest log lines once a second (transient messages that expire), and takes
 * commands for its modules. The console keeps the latest report per module.
 */
export function connectBrokerConsole(options: BrokerConsoleOptions): { remote: RemoteModules | undefined; stop(): Promise<void> } {
  const exchanges = [
    { exchange: options.statusExchange, type: 'fanout', durable: true },
    { exchange: options.controlExchange, type: 'direct', durable: true },
  ]
  const channel: ConsoleChannel = {
    options,
    publisher: options.connection.createPublisher({ exchanges }),
    exchanges,
    ownQueue: (purpose) => `${options.queuePrefix}.${purpose}.${randomUUID().slice(0, 8)}`,
    consumers: [],
    timers: [],
  }
  if (options.node.localModules.length > 0) reportLocalModules(channel)
  const remote = options.isConsole ? watchRemoteModules(channel) : undefined
  return {
    remote,
    async stop() {
      for (const timer of channel.timers) clearInterval(timer)
      await Promise.all(channel.consumers.map((consumer) => consumer.close()))
      await channel.publisher.close()
    },
  }
}

/** A process running modules: reports them once a second, and takes a person's commands for them. */
function reportLocalModules({ options, publisher, exchanges, ownQueue, consumers, timers }: ConsoleChannel): void {
  const { connection, node } = options
  const thisInstance = `${hostname()} pid ${process.pid}`
  const timer = setInterval(() => {
    if (!connection.ready) return
    const report: StatusReport = { ...node.report(), instance: thisInstance }
    publisher.send({ exchange: options.statusExchange, routingKey: '', durable: false, expiration: String(staleAfterMs) }, report).catch(() => {})
  }, options.reportEveryMs ?? 1_000)
  timer.unref()
  timers.push(timer)
  const commands = connection.createConsumer(
    {
      queue: ownQueue('control'),
      queueOptions: { exclusive: true, autoDelete: true },
      exchanges,
      queueBindings: node.localModules.map((module) => ({ queue: '', exchange: options.controlExchange, routingKey: module })),
    },
    (message) => {
      const command = message.body as ModuleCommand
      if (command && typeof command === 'object' && node.localModules.includes(command.module)) node.control(command)
    },
  )
  consumers.push(commands)
}

/** The console's process: every report of other processes, their queues' lengths at the broker, the views people look at. */
function watchRemoteModules({ options, publisher, exchanges, ownQueue, consumers, timers }: ConsoleChannel): RemoteModules {
  const { connection, node } = options
  /** Per module, the latest report of each process that runs it. */
  const latest = new Map<string, Map<string, { status: ModuleStatus; logs: LogLine[]; at: number }>>()
  const views = new Map<string, Map<string, unknown>>()
  /** Keys people looked at lately (the recent orders), asked of every module once a second; forgotten after a minute. */
  const watched = new Map<string, number>()
  const reports = connection.createConsumer(
    { queue: ownQueue('status'), queueOptions: { exclusive: true, autoDelete: true }, exchanges, queueBindings: [{ queue: '', exchange: options.statusExchange, routingKey: '' }] },
    (message) => {
      const report = message.body as StatusReport
      if (!report || !Array.isArray(report.modules)) return
      for (const signal of Array.isArray(report.signals) ? report.signals : []) {
        if (signal?.payload && !node.localModules.includes(signal.payload.module)) node.remoteSignal(signal)
      }
      const instance = typeof report.instance === 'string' ? report.instance : 'unknown'
      for (const status of report.modules) {
        if (node.localModules.includes(status.name)) continue
        const logs = report.logs?.[status.name] ?? []
        const instances = latest.get(status.name) ?? latest.set(status.name, new Map()).get(status.name)!
        // Reports overlap (the latest 50 lines each time): only lines newer than the last one seen are new.
        const seenUpTo = instances.get(instance)?.logs.at(-1)?.at ?? 0
        for (const line of logs) if (line.at > seenUpTo) node.remoteLog(line)
        instances.set(instance, { status, logs, at: Date.now() })
        const reported = report.views?.[status.name]
        if (reported) {
          const known = views.get(status.name) ?? views.set(status.name, new Map()).get(status.name)!
          let changed = false
          for (const [key, value] of Object.entries(reported)) {
            if (JSON.stringify(known.get(key)) !== JSON.stringify(value)) changed = true
            known.set(key, value)
          }
          if (changed) node.remoteViewChanged(status.name)
        }
      }
    },
  )
  consumers.push(reports)
  // Queue lengths come from the broker itself, read once a second.
  let lengths: Record<string, number> = {}
  const modules = [...node.allModules]
  const poll = setInterval(() => {
    if (!connection.ready) return
    readQueueLengths(connection, modules, options.queueOf).then(
      (read) => (lengths = read),
      // Unknown for now; the next round tries again.
      () => {},
    )
  }, options.reportEveryMs ?? 1_000)
  poll.unref()
  timers.push(poll)
  const sendWatched = () => {
    if (!connection.ready || watched.size === 0) return
    const now = Date.now()
    for (const [key, at] of watched) if (now - at > 60_000) watched.delete(key)
    const keys = [...watched.keys()].slice(-200)
    for (const module of modules) {
      if (node.localModules.includes(module)) continue
      publisher.send({ exchange: options.controlExchange, routingKey: module, durable: false, expiration: String(staleAfterMs) }, { module, action: 'watch', keys }).catch(() => {})
    }
  }
  /** A key asked for the first time is sent at once (on the next turn, with whatever else came), not on the next tick. */
  let askSoon = false
  const ask = setInterval(sendWatched, options.reportEveryMs ?? 1_000)
  ask.unref()
  timers.push(ask)
  return {
    brokerQueueLength: (module) => lengths[module] ?? 0,
    statuses: () => [...latest.values()].map((instances) => moduleTotals([...instances], Date.now())),
    logs: (module) =>
      [...(latest.get(module)?.values() ?? [])]
        .flatMap((instance) => instance.logs)
        .sort((a, b) => a.at - b.at)
        .slice(-50),
    view(module, key) {
      const isNew = !watched.has(key)
      watched.delete(key)
      watched.set(key, Date.now())
      if (isNew && !askSoon) {
        askSoon = true
        setImmediate(() => {
          askSoon = false
          sendWatched()
        })
      }
      return views.get(module)?.get(key)
    },
    async control(command) {
      await publisher.send({ exchange: options.controlExchange, routingKey: command.module, durable: false }, command)
    },
  }
}

/** The module's backlog over its processes, as a field to spread (absent when none found one). */
function backlogOf(backlogs: readonly (Readonly<BacklogProgress> | undefined)[]): { backlog?: BacklogProgress } {
  const backlog = combineBacklogs(backlogs)
  return backlog ? { backlog } : {}
}

/**
 * A module as the console shows it when one process or several run it: the totals over its processes,
 * and each one. A process gone quiet still counts in the totals of what it did (handled, failed), not
 * in what it does now (running, in flight).
 */
export function moduleTotals(instances: [string, { status: ModuleStatus; at: number }][], now: number): ModuleStatus & { reporting: boolean } {
  const fresh = instances.filter(([, { at }]) => now - at < staleAfterMs)
  // What the processes' figures give below is not taken from the newest report.
  const { backlog: _newestBacklog, clearsInMs: _newestClears, ...newest } = [...instances].sort((a, b) => b[1].at - a[1].at)[0]![1].status
  const sum = (list: typeof instances, field: 'handled' | 'failed' | 'retries' | 'inFlight' | 'queueLength' | 'queuedOnDisk' | 'delayed' | 'activeSagas') =>
    list.reduce((total, [, { status }]) => total + status[field], 0)
  const handled = sum(instances, 'handled')
  const weighted = (field: 'averageProcessingTimeMs' | 'averageCriticalTimeMs') =>
    handled === 0 ? 0 : instances.reduce((total, [, { status }]) => total + status[field] * status.handled, 0) / handled
  const each: ModuleInstance[] = instances.map(([id, { status, at }]) => ({ id, running: status.running, handled: status.handled, failed: status.failed, inFlight: status.inFlight, lastSeen: at, reporting: now - at < staleAfterMs }))
  return {
    ...newest,
    running: fresh.some(([, { status }]) => status.running),
    faultInjected: fresh.some(([, { status }]) => status.faultInjected),
    handled,
    failed: sum(instances, 'failed'),
    retries: sum(instances, 'retries'),
    inFlight: sum(fresh, 'inFlight'),
    queueLength: sum(fresh, 'queueLength'),
    queuedOnDisk: sum(fresh, 'queuedOnDisk'),
    delayed: sum(fresh, 'delayed'),
    // A process of an older version reports no pace.
    perSecond: fresh.reduce((total, [, { status }]) => total + (status.perSecond ?? 0), 0),
    // Instances sharing one store (PostgreSQL) each count all of its sagas; their own journals, only their own.
    activeSagas: fresh.some(([, { status }]) => status.sagasShared) ? Math.max(0, ...fresh.map(([, { status }]) => status.activeSagas)) : sum(fresh, 'activeSagas'),
    averageProcessingTimeMs: weighted('averageProcessingTimeMs'),
    averageCriticalTimeMs: weighted('averageCriticalTimeMs'),
    ...backlogOf(fresh.map(([, { status }]) => status.backlog)),
    instances: each,
    reporting: fresh.length > 0,
  }
}
