import type { ModuleStatus } from '../admin/admin-api.js'
import type { BusSignals, LogLine } from '../signals.js'

/**
 * How a console in one process sees the modules of the others (a shop split over a broker): each process
 * reports its modules (status, latest log lines, delivery signals, the views asked for) and takes a
 * person's commands for them. Apart from the transport: moving messages and watching modules are two
 * jobs, and a bus with a broker transport need not report at all.
 */

/** A page's question of a module (an order id): what the module answers, for a console in another process. */
export type ModuleViews = Readonly<Record<string, (key: string) => unknown | Promise<unknown>>>

/** A delivery signal as one process reports it to the console's. */
export type ForwardedSignal = { [K in 'message:handled' | 'message:failed' | 'message:retried' | 'message:archived']: { name: K; payload: BusSignals[K] } }['message:handled' | 'message:failed' | 'message:retried' | 'message:archived']

/** A person's command for a module in another process, carried by the broker. */
export interface ModuleCommand {
  module: string
  /** `watch`: report the module's views of these keys (e.g. order ids) from now on. */
  action: 'stop' | 'start' | 'fault' | 'fault-rate' | 'watch'
  on?: boolean
  rate?: number
  keys?: string[]
}

/** Modules that run in other processes, as the console sees them through the broker. */
export interface RemoteModules {
  /** The latest report of each module heard of; `reporting` is false once its reports stopped. */
  statuses(): (ModuleStatus & { reporting: boolean })[]
  logs(module: string): LogLine[]
  /** The module's view of `key` as last reported; asks the module to report it from now on. */
  view(module: string, key: string): unknown
  /** Messages waiting in the module's queue at the broker, as last read. */
  brokerQueueLength(module: string): number
  control(command: ModuleCommand): Promise<void>
}

/** What this process reports of its modules, once a second. */
export interface ConsoleReport {
  modules: ModuleStatus[]
  logs: Record<string, LogLine[]>
  signals: ForwardedSignal[]
  /** Per module, its views of the keys a console asked it to watch. */
  views: Record<string, Record<string, unknown>>
}

/** What the bus gives its console link when it starts. */
export interface ConsoleNode {
  /** The modules this process runs (it reports them and takes commands for them). */
  readonly localModules: readonly string[]
  /** Every module of the bus, wherever it runs. */
  readonly allModules: readonly string[]
  report(): ConsoleReport
  /** Applies a person's command sent from a console in another process. */
  control(command: ModuleCommand): void
  /** A module of another process reported a changed view of a watched key. */
  remoteViewChanged(module: string): void
  /** A log line another process reported for one of its modules (the console streams it like its own). */
  remoteLog(line: LogLine): void
  /** A delivery signal of another process (handled, failed, retried, archived): the console's diagrams use it. */
  remoteSignal(signal: ForwardedSignal): void
  onError(error: unknown, during: string): void
}

/** A console link: `createBus({ consoleLink })`. mailroom/amqp has one over RabbitMQ (createAmqpConsoleLink). */
export interface ConsoleLink {
  start(node: ConsoleNode): Promise<void>
  /** Modules of other processes, where this process hosts the console. */
  readonly remoteModules: RemoteModules | undefined
  /** This process's answers to a console's questions about a key, per module (the shop: its orders). */
  readonly views: ModuleViews
  stop(): Promise<void>
}
