import type { AdminApi } from './admin/admin-api.js'
import { createAdmin } from './admin/create-admin.js'
import { createAuditRetention } from './audit/retention.js'
import { resolveBusOptions, type BusOptions } from './bus-options.js'
import { createConsoleNode } from './console-link/console-node.js'
import type { DocumentOf, TableDefinition } from './data/define-table.js'
import type { TableReader } from './data/table.js'
import { createDispatcher } from './dispatch/dispatcher.js'
import { createOutsideSends, type OutsideSendOptions, type SendResult } from './dispatch/outside-sends.js'
import { LocalModules } from './endpoint/local-modules.js'
import { wireModule } from './endpoint/module-wiring.js'
import { TableNotHereError } from './errors.js'
import { createBusLifecycle, type StartReport } from './lifecycle/bus-lifecycle.js'
import { QuietWatch } from './lifecycle/quiet-watch.js'
import type { BodyOf, CommandDefinition, EventDefinition } from './messages/define-message.js'
import type { FileSystem } from './files/file-system.js'
import { createBusPersistence } from './bus-persistence.js'
import { createErrorQueue } from './recoverability/error-queue.js'
import { createSignals, listenOnly, type BusSignalsListener } from './signals.js'
import { BusMetrics } from './telemetry/metrics.js'
import { createModuleLog } from './telemetry/module-log.js'
import { BrokerQueueWatch } from './transport/broker-queue-watch.js'
import { ParkedAtBroker } from './transport/parked-at-broker.js'
import { createTransportHost } from './transport/transport-host.js'

export type { BusOptions } from './bus-options.js'
export type { OutsideSendOptions, SendResult } from './dispatch/outside-sends.js'
export type { StartReport } from './lifecycle/bus-lifecycle.js'

export interface Bus {
  /** Opens (and recovers) the journals, then starts every module. */
  start(): Promise<StartReport>
  /** Stops taking work, lets in-flight messages finish and commit, closes the journals. */
  stop(): Promise<void>
  /** Sends a command to its routed module. Throws at once for an unknown type, a missing route or an invalid body; resolves once the message is on disk. */
  send<D extends CommandDefinition>(message: D, body: BodyOf<D>, options?: OutsideSendOptions): Promise<SendResult>
  /** Publishes an event to every subscribing module; resolves once it is on disk. */
  publish<D extends EventDefinition>(message: D, body: BodyOf<D>, options?: OutsideSendOptions): Promise<SendResult>
  /** Resolves when every running module's queue is empty and nothing is in flight or being written (compaction included). */
  idle(): Promise<void>
  /** Runs the audit's retention and compaction now and waits for them (tests; both also run by themselves). */
  compact(): Promise<void>
  /** Whether `bus.table()` reads `module`'s tables here: the module runs here, or its data is in a database all instances share. */
  holdsDataOf(module: string): boolean
  /**
   * Read-only access to a module's table (`get`, `list`, `count`) from outside any handler: web routes,
   * scripts. Only handlers write. Throws TableNotHereError for a table of no module this process runs.
   */
  table<T extends TableDefinition>(definition: T): TableReader<DocumentOf<T>>
  readonly admin: AdminApi
  /** What happened, as it happens (for consoles, metrics and tests): listen with `on`, stop with `off`. */
  readonly signals: BusSignalsListener
  readonly fileSystem: FileSystem
  readonly dataDir: string
  readonly moduleNames: readonly string[]
}

/**
 * The composition root of the bus: it makes each role once and hands it to the roles that use it. A
 * message's way through them: bus.send → dispatch/outside-sends.ts (commit) → dispatch/dispatcher.ts →
 * the transport → endpoint/module-runtime.ts (the module's queue) → pipeline/incoming.ts (handlers, one
 * commit) → dispatch/dispatcher.ts again for what the handlers sent. docs/architecture.md has the table.
 */
export function createBus(options: BusOptions): Bus {
  const resolved = resolveBusOptions(options)
  const { topology, clock, transport, moduleNames, allNames, audit, consoleLink } = resolved
  const signals = createSignals()
  const onError = (error: unknown, during: string) => signals.emit('bus:error', { error, during })
  const errorQueue = createErrorQueue()
  const local = new LocalModules(moduleNames)
  const dispatcher = createDispatcher({ clock, transport, local })
  const persistence = createBusPersistence({ options, resolved, onError, relay: (deliveries) => lifecycle.running && dispatcher.dispatch(deliveries) })
  const log = createModuleLog({ clock, local, signals, logger: resolved.logger })
  const brokerQueues = new BrokerQueueWatch()
  // Bound to the application's meter provider at start (see BusMetrics.bind).
  const metrics = new BusMetrics(() => [...local.all()].map((runtime) => [runtime.name, runtime.queueLength + brokerQueues.lengthOf(runtime.name)] as const))
  const quietWatch = new QuietWatch(() => local.settled() && transport.pending === 0)
  const { compaction } = resolved
  /** A module settled: wake idle() waiters, and let compaction catch up with what the burst left behind. */
  const onQuiet = () => {
    quietWatch.notify()
    if (lifecycle.running && compaction && quietWatch.isQuiet()) persistence.maintenance.requestIfSealedSince()
  }
  const parked = new ParkedAtBroker()
  const { busBehaviors, writeErrorBackoffMs, queuedInMemory } = resolved
  const wiring = { topology, busBehaviors, persistence, clock, signals, log, metrics, dispatcher, transport, errorQueue, parked, writeErrorBackoffMs, queuedInMemory, onQuiet }
  for (const module of options.modules) if (moduleNames.includes(module.name)) local.add(wireModule(module, wiring))
  const isRunning = () => lifecycle.running
  const requireRunning = (action: string) => lifecycle.requireRunning(action)
  const sendFromOutside = createOutsideSends({ topology, clock, persistence, dispatcher, quietWatch, metrics, requireRunning })
  const tracked = <T>(work: () => Promise<T>) => quietWatch.tracked(work)
  const admin = createAdmin({ topology, persistence, signals, errorQueue, local, isRunning, requireRunning, tracked, log, now: () => clock.now(), transport, faults: resolved.faults, consoleLink: options.consoleLink })
  const host = createTransportHost({ topology, local, persistence, parked, signals, clock, fileSystem: resolved.fileSystem, dataDir: resolved.dataDir, isRunning, notifyIfQuiet: () => quietWatch.notify() })
  const console = consoleLink ? { link: consoleLink, node: createConsoleNode({ localModules: moduleNames, allModules: allNames, admin, signals, views: consoleLink.views ?? {} }) } : undefined
  const retention = audit ? createAuditRetention({ outbox: persistence, modules: moduleNames, ...audit, clock, onError: (error) => onError(error, 'keeping the audit within its retention') }) : undefined
  const lifecycle = createBusLifecycle({ persistence, transport, host, console, local, dispatcher, errorQueue, signals, metrics, brokerQueues, quietWatch, retention, compaction })

  return {
    admin,
    signals: listenOnly(signals),
    fileSystem: resolved.fileSystem,
    dataDir: resolved.dataDir,
    moduleNames,
    holdsDataOf: (module) => persistence.holdsDataOf(module),
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
    send: (definition, body, sendOptions) => sendFromOutside('send', definition, body, sendOptions),
    publish: (definition, body, sendOptions) => sendFromOutside('publish', definition, body, sendOptions),
    async idle() {
      do {
        await quietWatch.quiet()
        // Compaction writes too: idle means nothing is being written.
        await persistence.maintenance.idle()
      } while (!quietWatch.isQuiet())
    },
    table<T extends TableDefinition>(definition: T): TableReader<DocumentOf<T>> {
      const owner = resolved.tableOwner.get(definition)
      const reader = owner === undefined ? undefined : persistence.tableReader(owner, definition)
      if (!reader) throw new TableNotHereError(definition?.name ?? String(definition), [...resolved.allTablesByModule].filter(([module]) => persistence.holdsDataOf(module)).flatMap(([module, tables]) => tables.map((table) => `${module}.${table.name}`)))
      return reader as TableReader<DocumentOf<T>>
    },
    async compact() {
      lifecycle.requireRunning('compact')
      if (retention) {
        await retention.idle()
        retention.request()
        await retention.idle()
      }
      if (!compaction) return
      await persistence.maintenance.runNow()
    },
  }
}
