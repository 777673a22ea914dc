import { auditSweepEveryMs, type createAuditRetention } from '../audit/retention.js'
import type { ConsoleLink, ConsoleNode } from '../console-link/console-link.js'
import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import { BusAlreadyStartedError, BusNotStartedError } from '../errors.js'
import type { Persistence, TornTail } from '../persistence/persistence.js'
import type { ErrorQueue } from '../recoverability/error-queue.js'
import type { BusEmitter } from '../signals.js'
import type { BusMetrics } from '../telemetry/metrics.js'
import { checkForTracerProvider } from '../telemetry/tracing.js'
import type { BrokerQueueWatch } from '../transport/broker-queue-watch.js'
import type { Transport, TransportHost } from '../transport/transport.js'
import type { QuietWatch } from './quiet-watch.js'
import { readBackLeaving, routeRecovered } from './recovered-routing.js'
import { StartedParts } from './started-parts.js'

export interface StartReport {
  /** Records read from the journals. */
  records: number
  queued: number
  delayed: number
  failed: number
  orphaned: number
  tornTails: TornTail[]
}

type BusState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped'

export interface BusLifecycleDeps {
  persistence: Persistence
  transport: Transport
  host: TransportHost & { releaseAwaiting(): void }
  console: { link: ConsoleLink; node: ConsoleNode & { stop(): void } } | undefined
  local: LocalModules
  dispatcher: Dispatcher
  errorQueue: ErrorQueue
  signals: BusEmitter
  metrics: BusMetrics
  brokerQueues: BrokerQueueWatch
  quietWatch: QuietWatch
  retention: ReturnType<typeof createAuditRetention> | undefined
  /** Whether compaction runs (createBus({ journal: { compaction } })). */
  compaction: boolean
}

export interface BusLifecycle {
  readonly running: boolean
  /** Throws BusNotStartedError unless the bus runs. */
  requireRunning(action: string): void
  start(): Promise<StartReport>
  stop(): Promise<void>
}

/**
 * The bus's start and stop: each part started with one line and registered with how to stop it, so a
 * failed start and `stop()` undo them alike, the last started first.
 */
export function createBusLifecycle(deps: BusLifecycleDeps): BusLifecycle {
  const { persistence, transport, host, local, signals, metrics, retention } = deps
  const parts = new StartedParts()
  let state: BusState = 'created'

  /** What must be open before any module starts: the persistence (recovered), the transport, the console link. */
  async function openParts() {
    const recovered = await persistence.open()
    parts.add('the journals', () => persistence.close())
    for (const torn of recovered.tornTails) signals.emit('journal:torn-tail', torn)
    await transport.start(host)
    parts.add('the transport', () => transport.stop())
    const console = deps.console
    if (console) {
      await console.link.start(console.node)
      parts.add('the console link', async () => {
        console.node.stop()
        await console.link.stop()
      })
    }
    await readBackLeaving(recovered, transport, persistence)
    return recovered
  }

  /** What runs beside the modules: metrics (and the broker's queue lengths they read), the scheduler, the audit's retention. */
  function startBackground(): void {
    metrics.bind()
    if (metrics.enabled && transport.reachesOtherProcesses) parts.add("the broker's queue lengths", deps.brokerQueues.start(transport))
    checkForTracerProvider()
    parts.add('the delay scheduler', () => deps.dispatcher.stop())
    if (deps.compaction) persistence.maintenance.request()
    if (retention) {
      retention.request()
      const retentionTimer = setInterval(() => retention.request(), auditSweepEveryMs)
      retentionTimer.unref()
      parts.add("the audit's retention", async () => {
        clearInterval(retentionTimer)
        await retention.idle()
      })
    }
  }

  return {
    get running() {
      return state === 'running'
    },
    requireRunning(action) {
      if (state !== 'running') throw new BusNotStartedError(action)
    },
    async start() {
      if (state !== 'created') throw new BusAlreadyStartedError()
      state = 'starting'
      let recovered
      try {
        recovered = await openParts()
      } catch (error) {
        // What had started stops again; the start's own error is the one to tell.
        for (const failure of await parts.stopAll()) signals.emit('bus:error', { error: failure.error, during: `stopping ${failure.part} after a failed start` })
        state = 'created'
        throw error
      }
      const queued = routeRecovered(recovered, deps)
      state = 'running'
      startBackground()
      local.startAll()
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
      await deps.quietWatch.ownWorkDone()
      const failures = await parts.stopAll()
      state = 'stopped'
      if (failures.length > 0) throw failures[0]!.error
    },
  }
}
