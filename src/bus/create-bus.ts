import type { AdminApi } from './admin/admin-api.js'
import { createAdmin } from './admin/create-admin.js'
import type { SendOptions } from './endpoint/handler-context.js'
import { createModuleCounters, createModuleRuntime, type QueueSpill } from './endpoint/module-runtime.js'
import { createTransportHost } from './transport/transport-host.js'
import { BusAlreadyStartedError, BusNotStartedError, TableNotHereError } from './errors.js'
import type { DocumentOf, TableDefinition } from './data/define-table.js'
import type { TableReader } from './data/table.js'
import { auditSweepEveryMs, createAuditRetention } from './audit/retention.js'
import type { BodyOf, CommandDefinition, EventDefinition } from './messages/define-message.js'
import { Headers, OutsideOrigin } from './messages/headers.js'
import type { DeliveryState } from './delivery/delivery.js'
import type { FileSystem } from './outbox/file-system.js'
import type { TornTail } from './outbox/journal.js'
import { createOutbox } from './outbox/outbox.js'
import type { Persistence } from './persistence/persistence.js'
import { resolveBusOptions, type BusOptions } from './bus-options.js'
import { QuietWatch } from './lifecycle/quiet-watch.js'
import { StartedParts } from './lifecycle/started-parts.js'
import { createConsoleNode } from './console-link/console-node.js'
import { LocalModules } from './endpoint/local-modules.js'
import { createIncomingPipeline } from './pipeline/incoming.js'
import { prepareOutgoing, type SendMode } from './pipeline/outgoing.js'
import type { OutgoingEntry } from './delivery/delivery.js'
import { createErrorQueue } from './recoverability/error-queue.js'
import { brokerFailureSink, journalFailureSink } from './recoverability/failure-sink.js'
import { createDelayScheduler } from './scheduling/delay-scheduler.js'
import { createSignals, listenOnly, type BusSignalsListener, type LogLevel, type LogLine } from './signals.js'
import type { Span } from '@opentelemetry/api'
import { createLogOutput, type LoggedMessage } from './telemetry/bus-logger.js'
import { BusMetrics } from './telemetry/metrics.js'
import { checkForTracerProvider, endProducerSpan, startProducerSpan } from './telemetry/tracing.js'

export type { BusOptions } from './bus-options.js'

/** How often, with a broker and an OpenTelemetry meter, the broker's queue lengths are read for `mailroom.queue.length`. */
const brokerQueuesEveryMs = 5_000

/** Options of bus.send and bus.publish (from outside any handler). */
export interface OutsideSendOptions extends SendOptions {
  /**
   * The caller's own open database transaction (with a PostgreSQL persistence: a pg client between its
   * BEGIN and COMMIT). The message joins it: it leaves only if that transaction commits, and then within
   * moments. The call resolves once it is written in the transaction, not once it is committed.
   */
  transaction?: unknown
}

export interface SendResult {
  messageId: string
  conversationId: string
  correlationId: string
}

export interface StartReport {
  /** Records read from the journals. */
  records: number
  queued: number
  delayed: number
  failed: number
  orphaned: number
  tornTails: TornTail[]
}

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

type BusState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped'

export function createBus(options: BusOptions): Bus {
  const { logger, topology, busBehaviors, faults, maxSegmentBytes, writeErrorBackoffMs, queuedInMemory, fileSystem, dataDir, clock, transport, allNames, moduleNames, holdConsumedMs, audit, tablesByModule, allTablesByModule, tableOwner, consoleLink, persistence } = resolveBusOptions(options)
  const signals = createSignals()
  const errorQueue = createErrorQueue()
  let state: BusState = 'created'

  const journalOptions = {
    fs: fileSystem,
    dataDir,
    modules: moduleNames,
    tables: tablesByModule,
    audit: audit !== undefined,
    maxSegmentBytes,
    compaction: options.journal?.compaction ?? true,
    clock,
    holdConsumedMs,
    onError: (error: unknown, during: string) => signals.emit('bus:error', { error, during }),
  }
  const outbox: Persistence = persistence
    ? persistence({
        modules: moduleNames,
        allModules: allNames,
        tables: allTablesByModule,
        audit: audit !== undefined,
        ...(audit ? { auditMaxAgeMs: audit.maxAgeMs, auditMaxConversations: audit.maxConversations } : {}),
        concurrency: options.modules.filter((module) => moduleNames.includes(module.name)).reduce((sum, module) => sum + module.concurrency, 0),
        clock,
        reachesOtherProcesses: transport.reachesOtherProcesses,
        onError: journalOptions.onError,
        relay: (states) => {
          if (state === 'running') dispatch(states)
        },
      })
    : createOutbox(journalOptions)

  const retention = audit
    ? createAuditRetention({ outbox, modules: moduleNames, ...audit, clock, onError: (error) => signals.emit('bus:error', { error, during: "keeping the audit within its retention" }) })
    : undefined
  /** What start() started, for stop() (or a failed start) to stop, the last first. */
  const parts = new StartedParts()

  const local = new LocalModules(moduleNames)

  const scheduler = createDelayScheduler<DeliveryState>(clock, (delivery) => {
    local.countDelayed(delivery.module, -1)
    // A delayed retry belongs to this process (its record is here); a deferred message goes where its module runs.
    if (delivery.kind === 'delayed') local.find(delivery.module)?.enqueue(delivery)
    else transport.deliver([delivery])
  })

  function delay(delivery: DeliveryState): void {
    local.countDelayed(delivery.module, 1)
    scheduler.add(delivery.at ?? clock.now(), delivery)
  }

  /** Hands deliveries due now to the transport, and the others to the scheduler. */
  function dispatch(deliveries: DeliveryState[]): void {
    const now = clock.now()
    const due: DeliveryState[] = []
    for (const delivery of deliveries) {
      if (delivery.at !== undefined && delivery.at > now && !transport.holdsDeferred) delay(delivery)
      else due.push(delivery)
    }
    if (due.length > 0) transport.deliver(due)
  }

  const logOutput = logger ? createLogOutput(logger) : undefined
  function log(module: string, level: LogLevel, text: string, fields?: Record<string, unknown>, message?: LoggedMessage): void {
    const line: LogLine = { module, level, text, at: clock.now() }
    // An Error (pino's `err`) as its type and message: the panel's lines travel as JSON, where an Error is `{}`.
    if (fields) line.fields = fields.err instanceof Error ? { ...fields, err: `${fields.err.name}: ${fields.err.message}` } : fields
    if (message) {
      line.messageId = message.messageId
      if (message.traceId) line.traceId = message.traceId
    }
    local.find(module)?.remember(line)
    signals.emit('log', line)
    logOutput?.(module, level, text, fields, message)
  }

  /** With a broker and an SDK taking metrics: each module's queue at the broker, as last read (every few seconds). */
  let brokerQueues: Readonly<Record<string, number>> = {}
  // Bound to the application's meter provider at start (see BusMetrics.bind).
  const busMetrics = new BusMetrics(() => [...local.all()].map((runtime) => [runtime.name, runtime.queueLength + (brokerQueues[runtime.name] ?? 0)] as const))

  const quietWatch = new QuietWatch(() => {
    for (const runtime of local.all()) {
      if (runtime.unsettled > 0 || (runtime.running && runtime.queueLength > 0)) return false
    }
    return transport.pending === 0
  })
  const notifyIfQuiet = () => quietWatch.notify()

  /** A module settled: wake idle() waiters, and let compaction catch up with what the burst left behind. */
  function onModuleQuiet(): void {
    notifyIfQuiet()
    if (state === 'running' && options.journal?.compaction !== false && quietWatch.isQuiet()) outbox.maintenance.requestIfSealedSince()
  }


  function spillFor(module: string): QueueSpill {
    return {
      inMemory: queuedInMemory,
      retryAfterMs: writeErrorBackoffMs,
      release(delivery) {
        if (!delivery.env || !outbox.canReadBack(delivery)) return false
        delivery.env = undefined
        return true
      },
      async load(deliveries) {
        const envs = await outbox.readBack(deliveries.filter((delivery) => delivery.env === undefined))
        for (const [delivery, env] of envs) delivery.env ??= env
      },
      onError: (error) => signals.emit('bus:error', { error, during: `reading queued messages of ${module} back from the journal` }),
    }
  }

  for (const module of options.modules) {
    if (!moduleNames.includes(module.name)) continue
    // The module's counters, shared by its pipeline (retries, failures) and its runtime (handled, times).
    const counters = createModuleCounters()
    const process = createIncomingPipeline({
      module,
      behaviors: [...busBehaviors, ...module.behaviors],
      counters,
      topology,
      outbox,
      data: outbox.data(module.name),
      clock,
      signals,
      log: (level, text, fields, message) => log(module.name, level, text, fields, message),
      metrics: busMetrics,
      dispatch,
      failures:
        transport.retryLater && transport.park
          ? brokerFailureSink({ module: module.name, outbox, transport: { retryLater: transport.retryLater.bind(transport), park: transport.park.bind(transport) }, parked: (delivery) => host.markParked(delivery) })
          : journalFailureSink({ module: module.name, outbox, clock, delay, toErrorQueue: (delivery) => errorQueue.add(delivery) }),
      retryAfterWriteError(delivery, error) {
        signals.emit('bus:error', { error, during: `committing ${delivery.env?.type} in ${module.name}` })
        // A broker's message goes back to the broker, which delivers it again: after the backoff, holding
        // the slot meanwhile, so a database that is away is not asked again at once for every message.
        if (delivery.settled) return new Promise<void>((resolve) => clock.setTimer(resolve, writeErrorBackoffMs))
        delivery.at = clock.now() + writeErrorBackoffMs
        delay(delivery)
      },
    })
    local.add(
      createModuleRuntime({ name: module.name, counters, concurrency: module.concurrency, maxPerSecond: module.maxPerSecond, clock, process, onQuiet: onModuleQuiet, spill: spillFor(module.name) }),
    )
  }

  function requireRunning(action: string): void {
    if (state !== 'running') throw new BusNotStartedError(action)
  }

  function sendFromOutside(mode: SendMode, definition: unknown, body: unknown, sendOptions: OutsideSendOptions | undefined): Promise<SendResult> {
    requireRunning(mode === 'send' ? 'send' : 'publish')
    const entry = prepareOutgoing(topology, { mode, definition, body, options: sendOptions, origin: OutsideOrigin, incoming: undefined, now: clock.now() })
    const result: SendResult = {
      messageId: entry.env.id,
      conversationId: entry.env.headers[Headers.ConversationId]!,
      correlationId: entry.env.headers[Headers.CorrelationId]!,
    }
    // A child of whatever span is current (an HTTP request's, with Fastify's instrumentation).
    const span = startProducerSpan(entry, mode === 'send' ? 'send' : 'publish', undefined)
    if (entry.to.length === 0) {
      endProducerSpan(span)
      return Promise.resolve(result)
    }
    if (sendOptions?.transaction !== undefined) return commitInTransaction(entry, result, sendOptions.transaction, span)
    return commitFromOutside(entry, result, span)
  }

  /** Written in the caller's transaction: the persistence relays it once that commits. */
  async function commitInTransaction(entry: OutgoingEntry, result: SendResult, transaction: unknown, span: Span | undefined): Promise<SendResult> {
    try {
      dispatch(await outbox.commitOutside([entry], transaction))
    } catch (error) {
      endProducerSpan(span, error)
      throw error
    }
    sentFromOutside(entry, span)
    return result
  }

  /** A message from outside is committed: its span ends (it covered the write) and the sent counter counts it. */
  function sentFromOutside(entry: OutgoingEntry, span: Span | undefined): void {
    endProducerSpan(span)
    busMetrics.sent([entry])
  }

  /** `quietWatch.tracked` for the hottest caller, without a closure per message sent. */
  async function commitFromOutside(entry: OutgoingEntry, result: SendResult, span: Span | undefined): Promise<SendResult> {
    quietWatch.begin()
    try {
      dispatch(await outbox.commitOutside([entry]))
    } catch (error) {
      endProducerSpan(span, error)
      throw error
    } finally {
      quietWatch.end()
    }
    sentFromOutside(entry, span)
    return result
  }

  const admin = createAdmin({
    topology,
    outbox,
    signals,
    errorQueue,
    local,
    isRunning: () => state === 'running',
    requireRunning,
    tracked: (work) => quietWatch.tracked(work),
    log,
    now: () => clock.now(),
    transport,
    faults,
    consoleLink: options.consoleLink,
  })

  const host = createTransportHost({
    topology,
    local,
    outbox,
    signals,
    clock,
    fileSystem,
    dataDir,
    isRunning: () => state === 'running',
    notifyIfQuiet,
  })
  const consoleNode = consoleLink ? createConsoleNode({ localModules: moduleNames, allModules: allNames, admin, signals, views: consoleLink.views ?? {} }) : undefined

  return {
    admin,
    signals: listenOnly(signals),
    fileSystem,
    dataDir,
    moduleNames,
    holdsDataOf: (module) => outbox.holdsDataOf(module),
    async start() {
      if (state !== 'created') throw new BusAlreadyStartedError()
      state = 'starting'
      let recovered
      try {
        recovered = await outbox.open()
        parts.add('the journals', () => outbox.close())
        for (const torn of recovered.tornTails) signals.emit('journal:torn-tail', torn)
        await transport.start(host)
        parts.add('the transport', () => transport.stop())
        if (consoleLink && consoleNode) {
          await consoleLink.start(consoleNode)
          parts.add('the console link', async () => {
            consoleNode.stop()
            await consoleLink.stop()
          })
        }
        // Replay leaves pending messages on disk. A local queue reads them back in its turn; what goes to
        // the broker or waits for a time is read back now.
        const leaving = recovered.delayed.filter((delivery) => delivery.kind === undefined)
        if (transport.reachesOtherProcesses) {
          leaving.push(...recovered.elsewhere)
          for (const deliveries of recovered.queued.values()) leaving.push(...deliveries.filter((delivery) => delivery.kind === undefined))
        }
        for (const [delivery, env] of await outbox.readBack(leaving)) delivery.env ??= env
      } catch (error) {
        // What had started stops again; the start's own error is the one to tell.
        for (const failure of await parts.stopAll()) signals.emit('bus:error', { error: failure.error, during: `stopping ${failure.part} after a failed start` })
        state = 'created'
        throw error
      }
      let queued = 0
      for (const [module, deliveries] of recovered.queued) {
        const runtime = local.get(module)
        // Through the transport, except what a record here holds (a message retried from the error queue).
        const pending = deliveries.filter((delivery) => delivery.kind === undefined)
        if (!transport.reachesOtherProcesses) for (const delivery of deliveries) runtime.enqueue(delivery)
        else {
          for (const delivery of deliveries) if (delivery.kind !== undefined) runtime.enqueue(delivery)
          transport.deliver(pending)
        }
        queued += deliveries.length
      }
      if (transport.reachesOtherProcesses) transport.deliver(recovered.elsewhere)
      // Delayed retries are records here; deferred messages wait at the broker when it holds them.
      for (const delivery of recovered.delayed) {
        if (delivery.kind === undefined && transport.holdsDeferred) transport.deliver([delivery])
        else delay(delivery)
      }
      for (const delivery of recovered.failed) errorQueue.add(delivery)
      busMetrics.bind()
      if (busMetrics.enabled && transport.reachesOtherProcesses) {
        // The gauge is read synchronously; the broker answers asynchronously: read it ahead, a passive declare per module.
        const readBrokerQueues = () => void transport.queueLengths().then((lengths) => void (lengths && (brokerQueues = lengths)))
        readBrokerQueues()
        const brokerTimer = setInterval(readBrokerQueues, brokerQueuesEveryMs)
        brokerTimer.unref()
        parts.add("the broker's queue lengths", () => clearInterval(brokerTimer))
      }
      checkForTracerProvider()
      state = 'running'
      parts.add('the delay scheduler', () => scheduler.stop())
      local.startAll()
      if (options.journal?.compaction !== false) outbox.maintenance.request()
      if (retention) {
        retention.request()
        const retentionTimer = setInterval(() => retention.request(), auditSweepEveryMs)
        retentionTimer.unref()
        parts.add("the audit's retention", async () => {
          clearInterval(retentionTimer)
          await retention.idle()
        })
      }
      return {
        records: recovered.records,
        queued,
        delayed: recovered.delayed.length,
        failed: recovered.failed.length,
        orphaned: recovered.orphaned + (transport.reachesOtherProcesses ? 0 : recovered.elsewhere.length),
        tornTails: recovered.tornTails,
      }
    },
    async stop() {
      if (state !== 'running') return
      state = 'stopping'
      await local.stopAll()
      // Broker messages still queued here were never started: the broker delivers them again.
      host.releaseAwaiting()
      await quietWatch.ownWorkDone()
      const failures = await parts.stopAll()
      state = 'stopped'
      if (failures.length > 0) throw failures[0]!.error
    },
    send: (definition, body, sendOptions) => sendFromOutside('send', definition, body, sendOptions),
    publish: (definition, body, sendOptions) => sendFromOutside('publish', definition, body, sendOptions),
    async idle() {
      do {
        await quietWatch.quiet()
        // Compaction writes too: idle means nothing is being written.
        await outbox.maintenance.idle()
      } while (!quietWatch.isQuiet())
    },
    table<T extends TableDefinition>(definition: T): TableReader<DocumentOf<T>> {
      const owner = tableOwner.get(definition)
      const reader = owner === undefined ? undefined : outbox.tableReader(owner, definition)
      if (!reader) throw new TableNotHereError(definition?.name ?? String(definition), [...allTablesByModule].filter(([module]) => outbox.holdsDataOf(module)).flatMap(([module, tables]) => tables.map((table) => `${module}.${table.name}`)))
      return reader as TableReader<DocumentOf<T>>
    },
    async compact() {
      requireRunning('compact')
      if (retention) {
        await retention.idle()
        retention.request()
        await retention.idle()
      }
      if (options.journal?.compaction === false) return
      await outbox.maintenance.runNow()
    },
  }
}
