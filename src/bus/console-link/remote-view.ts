import { hostname } from 'node:os'
import type { ModuleInstance, ModuleStatus } from '../admin/admin-api.js'
import { combineBacklogs, type BacklogProgress } from '../endpoint/backlog.js'
import type { LogLine } from '../signals.js'
import type { ConsoleNode, ForwardedSignal, ModuleCommand, RemoteModules } from './console-link.js'

/** What a process reports of its modules, once a second, whatever carries it (a broker, a table). */
export interface StatusReport {
  /** The reporting process (host and pid): several may run one module. */
  instance?: string
  modules: ModuleStatus[]
  logs: Record<string, LogLine[]>
  signals?: ForwardedSignal[]
  views?: Record<string, Record<string, unknown>>
}

/** A report older than this means the module's process is gone (or cut off). */
export const staleAfterMs = 5_000

/** What the console's view of other processes needs from whatever carries reports and commands. */
export interface ConsolePort {
  /** Whether it can send now (its connection is up). */
  ready(): boolean
  /** Sends a person's command (or the console's watch list) to the processes running the module. */
  command(command: ModuleCommand): Promise<void>
  /** Messages waiting in each module's queue, read from the transport. */
  queueLengths(modules: readonly string[]): Promise<Record<string, number>>
}

/**
 * The console's process: the latest report of each process running each module, their queues' lengths,
 * the views people look at. `onReport` takes each report as it arrives; `stop` ends its timers.
 */
export function watchRemoteModules(node: ConsoleNode, port: ConsolePort, everyMs = 1_000): { remote: RemoteModules; onReport(report: StatusReport): void; stop(): void } {
  /** Per module, the latest report of each process that runs it. */
  const latest = new Map<string, Map<string, { status: ModuleStatus; logs: LogLine[]; at: number }>>()
  const views = new Map<string, Map<string, unknown>>()
  /** Keys people looked at lately (the recent orders), asked of every module once a second; forgotten after a minute. */
  const watched = new Map<string, number>()
  const modules = [...node.allModules]
  let lengths: Record<string, number> = {}
  const poll = setInterval(() => {
    if (!port.ready()) return
    port.queueLengths(modules).then(
      (read) => (lengths = read),
      // Unknown for now; the next round tries again.
      () => {},
    )
  }, everyMs)
  poll.unref()
  const sendWatched = () => {
    if (!port.ready() || watched.size === 0) return
    const now = Date.now()
    for (const [key, at] of watched) if (now - at > 60_000) watched.delete(key)
    const keys = [...watched.keys()].slice(-100)
    for (const module of modules) {
      if (node.localModules.includes(module)) continue
      port.command({ module, action: 'watch', keys }).catch(() => {})
    }
  }
  /** A key asked for the first time is sent at once (on the next turn, with whatever else came), not on the next tick. */
  let askSoon = false
  const ask = setInterval(sendWatched, everyMs)
  ask.unref()

  function onReport(report: StatusReport): void {
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
      if (reported) noteViews(status.name, reported)
    }
  }

  function noteViews(module: string, reported: Record<string, unknown>): void {
    const known = views.get(module) ?? views.set(module, new Map()).get(module)!
    let changed = false
    for (const [key, value] of Object.entries(reported)) {
      if (JSON.stringify(known.get(key)) !== JSON.stringify(value)) changed = true
      known.set(key, value)
    }
    if (changed) node.remoteViewChanged(module)
  }

  const remote: RemoteModules = {
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
    control: (command) => port.command(command),
  }
  return {
    remote,
    onReport,
    stop() {
      clearInterval(poll)
      clearInterval(ask)
    },
  }
}

/** This process's report of its modules, stamped with which process it is. */
export function reportOf(node: ConsoleNode): StatusReport {
  return { ...node.report(), instance: thisInstance }
}

const thisInstance = `${hostname()} pid ${process.pid}`

/** A command that arrived for this process: applied if it is one, for a module it runs. */
export function applyCommand(node: ConsoleNode, body: unknown): void {
  const command = body as ModuleCommand
  if (command && typeof command === 'object' && typeof command.module === 'string' && node.localModules.includes(command.module)) node.control(command)
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
