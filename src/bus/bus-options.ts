import { resolve } from 'node:path'
import { systemClock, type Clock } from './clock.js'
import type { ConsoleLink } from './console-link/console-link.js'
import type { TableDefinition } from './data/define-table.js'
import { InvalidBusOptionError, ModuleNotFoundError, ModulesUnreachableError } from './errors.js'
import { isFaultInjection } from './faults/fault-injection.js'
import { createNodeFileSystem, type FileSystem } from './files/file-system.js'
import { createMemoryFileSystem } from './files/memory-file-system.js'
import { requireBehaviors, type Behavior } from './pipeline/behavior.js'
import { requireWhole } from './recoverability/policy.js'
import { createTopology, type Routes } from './routing/topology.js'
import { createEmbeddedTransport } from './transport/embedded-transport.js'
import type { Transport } from './transport/transport.js'
import type { ModuleDefinition } from './endpoint/module-definition.js'
import type { PersistenceFactory } from './persistence/persistence.js'
import { requireLogger, type BusLogger } from './telemetry/bus-logger.js'

export interface BusOptions {
  modules: readonly ModuleDefinition[]
  /** Command type → module, e.g. `{ PlaceOrder: 'sales' }`. @default {} */
  routes?: Routes
  /**
   * Where the journals live.
   * @default process.env.MAILROOM_DATA_DIR ?? './data'
   */
  dataDir?: string
  /**
   * `disk`: durable journals, every accepted message fsync'd. `memory`: the same code on an in-memory
   * file system, for scenario tests and benchmarks; a restart loses everything.
   * @default 'disk'
   */
  storage?: 'disk' | 'memory'
  /** Overrides the storage's file system: count fsyncs, inject disk errors, or share one memory file system between restarts. */
  fileSystem?: FileSystem
  /** @default the system clock; tests pass a virtual one (src/bus/testing). */
  clock?: Clock
  journal?: {
    /**
     * A segment is closed (and may be compacted) at this size.
     * @default 8 MiB
     */
    maxSegmentBytes?: number
    /**
     * Delete settled segments as the journal grows. Turn off to keep every record (an audit trail;
     * tests that count records).
     * @default true
     */
    compaction?: boolean
  }
  /** How long to wait before trying a delivery again after the journal could not be written (or read back). @default 1000 */
  writeErrorBackoffMs?: number
  /**
   * Queued messages per module kept in memory. Past that, a queue holds only each message's place in the
   * journal (about 200 bytes a message instead of about 450) and reads the messages back in arrival
   * order, a chunk at a time, as it works down to them: a stopped module's backlog costs little memory.
   * In memory mode the journal is in memory too, so reading messages back would save about a quarter of
   * what a queued message costs and cut the rate a long queue drains at by a third: there, all are kept.
   * @default 4096 (on disk); unlimited (in memory)
   */
  queuedInMemory?: number
  /**
   * How deliveries reach their modules: the embedded transport (this process), or a broker's
   * (`createAmqpTransport`), so the modules can run in several processes.
   * @default createEmbeddedTransport()
   */
  transport?: Transport
  /**
   * The modules this process runs; the others run elsewhere and are reached through the transport.
   * `modules` still lists them all (routing needs them).
   * @default every module
   */
  runHere?: readonly string[]
  /**
   * With a broker transport: how long a handled message's consumed mark is kept after the fact, so a
   * redelivery (an ack lost with a crash or a dropped connection) is recognised and dropped.
   * @default 600000 (10 minutes)
   */
  holdConsumedMs?: number
  /**
   * How a console in one process sees and steers the modules of the others (with a broker transport):
   * `createAmqpConsoleLink` from mailroom/amqp. Without it, this process reports nothing.
   */
  consoleLink?: ConsoleLink
  /**
   * Steps around every module's handlers (defineBehavior): timing, a unit of work, fault injection. They
   * wrap each module's own behaviors; the first is outermost.
   * @default []
   */
  behaviors?: readonly Behavior[]
  /**
   * The audit of conversations: each message's outcome at each module (handled, delayed retry, error
   * queue, retried, deleted), committed in the same journal record as the outcome itself, so a
   * conversation's steps are complete after a crash and outlive restarts (`admin.conversation(id)`; the
   * shop's console draws its diagrams from it). Kept per module: at most `maxConversations`
   * conversations, none older than `maxAgeMs`. Off unless asked for, as NServiceBus's auditing is: it
   * writes a document with every message, and the durable path ran at 0.71-0.89x of its rate without it
   * (docs/performance.md). Costs about 150 bytes of memory per conversation and module.
   * @default false; `true` means { maxConversations: 100_000, maxAgeMs: 604_800_000 } (7 days)
   * @example { audit: { maxConversations: 10_000 } }
   */
  audit?: boolean | { maxConversations?: number; maxAgeMs?: number }
  /**
   * Where the bus keeps what must survive a crash, when not in journal files under `dataDir`:
   * `postgresPersistence({ connectionString })` from mailroom/postgres keeps every module's inbox, outbox,
   * sagas, tables and audit in PostgreSQL, one transaction per handled message, shared by all instances.
   * @default journal files in `dataDir`
   */
  persistence?: PersistenceFactory
  /**
   * Where the modules' log lines go besides the console's panels: a pino logger (Fastify's `app.log`, or
   * `pino()`). Each line carries the module and, while a message is handled, its id, type, conversation
   * and trace id. Without one, lines reach only `bus.signals` (the console) and `admin.logs()`.
   * @default none
   * @example { logger: pino() }
   */
  logger?: BusLogger
}

/** Every option createBus takes: the compiler holds this to BusOptions, both ways. */
const optionNames = {
  modules: true,
  routes: true,
  dataDir: true,
  storage: true,
  fileSystem: true,
  clock: true,
  journal: true,
  writeErrorBackoffMs: true,
  queuedInMemory: true,
  transport: true,
  runHere: true,
  holdConsumedMs: true,
  consoleLink: true,
  behaviors: true,
  audit: true,
  persistence: true,
  logger: true,
} satisfies Record<keyof BusOptions, true>
const knownOptions = Object.keys(optionNames)

/**
 * createBus's options checked and with their defaults: every misconfiguration fails here, at the call,
 * naming the option, before anything is opened or started.
 */
/** BusOptions checked, with every default applied. */
export type ResolvedBusOptions = ReturnType<typeof resolveBusOptions>

export function resolveBusOptions(options: BusOptions) {
  // A misspelt option would otherwise be ignored, and the bus run with the default instead.
  for (const key of Object.keys(options ?? {})) {
    if (!knownOptions.includes(key)) throw new InvalidBusOptionError(key, `one of ${knownOptions.join(', ')}`, `an option createBus does not take`)
  }
  if (!Array.isArray(options?.modules) || options.modules.length === 0) {
    throw new InvalidBusOptionError('modules', 'a non-empty array of defineModule(...) results', options?.modules)
  }
  const topology = createTopology(options.modules, options.routes ?? {})
  const busBehaviors = requireBehaviors('behaviors', options.behaviors)
  const faults = busBehaviors.find(isFaultInjection)
  const storage = options.storage ?? 'disk'
  if (storage !== 'disk' && storage !== 'memory') throw new InvalidBusOptionError('storage', "'disk' or 'memory'", storage)
  const maxSegmentBytes = options.journal?.maxSegmentBytes ?? 8 * 1024 * 1024
  requireWhole('journal.maxSegmentBytes', maxSegmentBytes, 1024, InvalidBusOptionError)
  const writeErrorBackoffMs = options.writeErrorBackoffMs ?? 1_000
  const queuedInMemory = options.queuedInMemory ?? (storage === 'memory' ? Number.MAX_SAFE_INTEGER : 4_096)
  requireWhole('queuedInMemory', queuedInMemory, 1, InvalidBusOptionError)
  const fileSystem = options.fileSystem ?? (storage === 'memory' ? createMemoryFileSystem() : createNodeFileSystem())
  const dataDir = storage === 'memory' && !options.dataDir ? '/mailroom-memory' : resolve(options.dataDir ?? process.env.MAILROOM_DATA_DIR ?? './data')
  const clock = options.clock ?? systemClock
  const transport = options.transport ?? createEmbeddedTransport()
  const allNames = options.modules.map((module) => module.name)
  for (const name of options.runHere ?? []) if (!allNames.includes(name)) throw new ModuleNotFoundError(name, allNames)
  const moduleNames = options.runHere ? allNames.filter((name) => options.runHere!.includes(name)) : allNames
  // A module left out of this process runs nowhere unless a broker carries its messages to another one.
  const unreachable = allNames.filter((name) => !moduleNames.includes(name))
  if (!transport.reachesOtherProcesses && unreachable.length > 0) throw new ModulesUnreachableError(unreachable)
  const holdConsumedMs = !transport.reachesOtherProcesses ? 0 : (options.holdConsumedMs ?? 600_000)
  requireWhole('holdConsumedMs', holdConsumedMs, 0, InvalidBusOptionError)
  const requested = options.audit
  if (requested !== undefined && typeof requested !== 'boolean' && (typeof requested !== 'object' || requested === null)) throw new InvalidBusOptionError('audit', 'true, false or { maxConversations, maxAgeMs }', requested)
  const audit = !requested ? undefined : { maxConversations: (requested === true ? undefined : requested.maxConversations) ?? 100_000, maxAgeMs: (requested === true ? undefined : requested.maxAgeMs) ?? 7 * 24 * 3_600_000 }
  if (audit) {
    requireWhole('audit.maxConversations', audit.maxConversations, 1, InvalidBusOptionError)
    requireWhole('audit.maxAgeMs', audit.maxAgeMs, 1, InvalidBusOptionError)
  }
  const tablesByModule = new Map<string, readonly TableDefinition[]>()
  /** Those of modules run elsewhere too: a database persistence reads them here. */
  const allTablesByModule = new Map<string, readonly TableDefinition[]>()
  const tableOwner = new Map<TableDefinition, string>()
  for (const module of options.modules) {
    for (const table of module.tables ?? []) {
      const owner = tableOwner.get(table)
      if (owner !== undefined) throw new InvalidBusOptionError(`modules.${module.name}.tables`, `tables of its own (${table.name} belongs to ${owner})`, table.name)
      tableOwner.set(table, module.name)
    }
    if (module.tables?.length) allTablesByModule.set(module.name, module.tables)
    if (moduleNames.includes(module.name) && module.tables?.length) tablesByModule.set(module.name, module.tables)
  }

  const persistence = options.persistence
  if (persistence !== undefined && typeof persistence !== 'function') throw new InvalidBusOptionError('persistence', 'a persistence, e.g. postgresPersistence(...) from mailroom/postgres', persistence)
  const consoleLink = options.consoleLink
  if (consoleLink !== undefined && (typeof consoleLink?.start !== 'function' || typeof consoleLink.stop !== 'function')) {
    throw new InvalidBusOptionError('consoleLink', 'a console link, e.g. createAmqpConsoleLink(...)', consoleLink)
  }
  const logger = requireLogger(options.logger)
  return {
    logger,
    /** Whether compaction runs (journal.compaction, on by default). */
    compaction: options.journal?.compaction !== false,
    topology,
    busBehaviors,
    faults,
    maxSegmentBytes,
    writeErrorBackoffMs,
    queuedInMemory,
    fileSystem,
    dataDir,
    clock,
    transport,
    allNames,
    moduleNames,
    holdConsumedMs,
    audit,
    tablesByModule,
    allTablesByModule,
    tableOwner,
    consoleLink,
    persistence,
  }
}
