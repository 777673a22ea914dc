import type { Clock } from '../clock.js'
import type { DeliveryState } from '../delivery/delivery.js'
import type { LogLine } from '../signals.js'
import { BacklogTracker, ThroughputMeter, type BacklogProgress } from './backlog.js'
import { ModuleQueue, type QueueSpill } from './module-queue.js'

export type { QueueSpill } from './module-queue.js'
import { RecentLogs } from './recent-logs.js'
import { StartRateLimit } from './rate-limit.js'

export interface ModuleCounters {
  handled: number
  /** Messages moved to the error queue. */
  failed: number
  /** Attempts that failed and were tried again (immediate or delayed). */
  retries: number
  processingTimeMsTotal: number
  criticalTimeMsTotal: number
}

export function createModuleCounters(): ModuleCounters {
  return { handled: 0, failed: 0, retries: 0, processingTimeMsTotal: 0, criticalTimeMsTotal: 0 }
}

export interface ModuleRuntime {
  readonly name: string
  readonly concurrency: number
  readonly maxPerSecond: number | undefined
  readonly running: boolean
  /** Deliveries whose handlers run now: never more than `concurrency`. */
  readonly inFlight: number
  /** Deliveries taken from the queue and not yet settled: running, or handled and waiting for their commit. */
  readonly unsettled: number
  readonly queueLength: number
  /** Of `queueLength`, the messages kept on disk only, read back when their turn comes. */
  readonly queuedOnDisk: number
  readonly counters: ModuleCounters
  /** Deliveries settled (handled, delayed or failed) per second, over the last ten seconds. */
  readonly perSecond: number
  /** The queue found when the module last started, and how much of it is still waiting; undefined if it found none. */
  readonly backlog: Readonly<BacklogProgress> | undefined
  readonly recentLogs: readonly LogLine[]
  enqueue(state: DeliveryState): void
  start(): void
  stop(): void
  /** Resolves when nothing of this module is in flight. */
  settled(): Promise<void>
  remember(line: LogLine): void
}

export interface ModuleRuntimeOptions {
  name: string
  /** Its counters, which the module's pipeline counts into too. */
  counters: ModuleCounters
  concurrency: number
  maxPerSecond: number | undefined
  clock: Clock
  /**
   * Handles one delivery to its end (handled, delayed or failed); never rejects. Calls `release` once
   * the handlers are done, so the next delivery can start while this one waits for its commit's fsync
   * (the group commit then gathers more records per fsync).
   */
  process: (state: DeliveryState, release: () => void) => Promise<void>
  onQuiet: () => void
  logLimit?: number
  /** How a long queue keeps its messages on disk; without it every queued message stays in memory. */
  spill?: QueueSpill
}



/** Deliveries one module starts per turn of the event loop at most (see drain). */
const startsPerTurn = 16

/**
 * Deliveries one module may have started and not yet settled (most of them waiting for their group
 * commit, since a slot is freed once a delivery's record is appended). When a commit lands, all of its
 * deliveries settle in one go; this bounds that burst. Measured with bench/profile-drain.ts (100k backlog,
 * 4 runs each): worst `setTimeout(0)` delay 8.4-28.5 ms unbounded, 7.3-9.5 ms with 256, at the same rate.
 * (Never below `concurrency`: a module asking for more handlers at once gets them.)
 */
const unsettledPerModule = 256

/**
 * One module's queue and dispatcher: at most `concurrency` deliveries in flight, the rest wait in
 * arrival order. A stopped module keeps its queue filling and works it off in order once started.
 */
export function createModuleRuntime(options: ModuleRuntimeOptions): ModuleRuntime {
  const { counters, clock } = options
  const queue = new ModuleQueue(options.spill, clock, () => drain())
  const rateLimit = new StartRateLimit(options.maxPerSecond, clock, () => drain())
  const logs = new RecentLogs(options.logLimit ?? 200)
  let running = false
  let inFlight = 0
  let unsettled = 0
  let settledWaiters: (() => void)[] = []
  // Handlers that await nothing real finish within the same turn, and a freed slot starts the next
  // delivery at once: without a budget a module could work off its whole queue in one turn of the event
  // loop while HTTP requests wait. After `startsPerTurn` starts, the rest waits for the next turn.
  let startsLeft = startsPerTurn
  const maxUnsettled = Math.max(unsettledPerModule, options.concurrency)
  let turnScheduled = false
  const now = () => clock.now()
  const throughput = new ThroughputMeter(now)
  const backlog = new BacklogTracker(now)

  function begin(state: DeliveryState): void {
    // One small object per delivery rather than named closures: under tsx every named closure costs a
    // defineProperty per call, which showed in profiles of this path.
    const slot = { released: false }
    backlog.taken()
    inFlight++
    unsettled++
    void options.process(state, () => release(slot)).then(
      () => finish(slot, state),
      () => finish(slot, state),
    )
  }

  function release(slot: { released: boolean }): void {
    if (slot.released) return
    slot.released = true
    inFlight--
    drain()
  }

  function finish(slot: { released: boolean }, state: DeliveryState): void {
    release(slot)
    // A broker's message learns its outcome (acknowledge, or deliver again).
    state.settled?.(state)
    throughput.count()
    settle()
    // The bound above may have held starts back.
    if (unsettled === maxUnsettled - 1) drain()
  }

  function settle(): void {
    unsettled--
    if (unsettled === 0 && settledWaiters.length > 0) {
      const waiters = settledWaiters
      settledWaiters = []
      for (const resolve of waiters) resolve()
    }
    if (unsettled === 0 && (queue.length === 0 || !running)) options.onQuiet()
  }

  function nextTurn(): void {
    turnScheduled = false
    startsLeft = startsPerTurn
    drain()
  }

  function drain(): void {
    while (running && inFlight < options.concurrency && unsettled < maxUnsettled && queue.readyLength > 0) {
      if (startsLeft === 0) {
        if (!turnScheduled) {
          turnScheduled = true
          setImmediate(nextTurn)
        }
        return
      }
      if (!rateLimit.mayStart()) return
      startsLeft--
      begin(queue.shift())
    }
    queue.readAheadIfLow()
  }

  return {
    name: options.name,
    concurrency: options.concurrency,
    maxPerSecond: options.maxPerSecond,
    get running() { return running },
    get inFlight() { return inFlight },
    get unsettled() { return unsettled },
    get queueLength() { return queue.length },
    get queuedOnDisk() { return queue.onDisk },
    counters,
    get perSecond() { return throughput.perSecond() },
    get backlog() { return backlog.progress },
    get recentLogs() { return logs.lines },
    enqueue(state) {
      queue.push(state)
      drain()
    },
    start() {
      running = true
      backlog.started(queue.length)
      drain()
      if (unsettled === 0) options.onQuiet()
    },
    stop() {
      running = false
      if (unsettled === 0) options.onQuiet()
    },
    settled() {
      if (unsettled === 0) return Promise.resolve()
      return new Promise((resolve) => settledWaiters.push(resolve))
    },
    remember: (line) => logs.remember(line),
  }
}
