import type { DeliveryState } from '../../delivery/delivery.js'
import type { PersistenceContext } from '../persistence.js'
import type { Connections } from './connections.js'
import type { DeliverySources } from './delivery-sources.js'
import type { OutboxRowRead } from './outbox-rows.js'
import { listenForOutsideSends } from './outside-listener.js'
import { outsideModule } from './postgres-options.js'
import { claimOutboxRows, claimRowsSentBy } from './statements.js'

/** Rows relayed per schema per pass. */
const relayBatch = 500

export interface RelayDeps {
  connections: Connections
  sources: DeliverySources
  context: PersistenceContext
  /** The module's schema (quoted). */
  schemaOf: (module: string) => string
  /** The modules whose outboxes this instance relays (with a broker: every module's, those run elsewhere too). */
  relayed: readonly string[]
  instanceId: string
  relayEveryMs: number
  takeOverAfterMs: number
}

export interface Relay {
  /**
   * Claims pending rows of `module`'s outbox that nobody relays: written in a caller's transaction
   * (unclaimed), or claimed by another instance long enough ago that it must have died. `all` (a start
   * with the embedded transport, where this process is the only one) takes every pending row.
   */
  claimPending(module: string, all: boolean): Promise<DeliveryState[]>
  /**
   * A delivery found handled already: if an earlier attempt here committed without learning it (the answer
   * to its COMMIT was lost with the connection), what it sent never left. Takes those rows over and relays
   * them; rows another live instance is passing on right now are left to it.
   */
  relayLeftBehind(module: string, causationId: string): Promise<void>
  /** Starts the passes and the LISTEN for sends committed in callers' transactions. */
  start(): void
  /** The pass under way, if one is. */
  idle(): Promise<void>
  stop(): Promise<void>
}

/**
 * The relay: hands the bus deliveries it did not commit itself (sends committed in a caller's own
 * transaction, rows another instance lost track of), from a pass every `relayEveryMs` and at once when a
 * caller's transaction NOTIFYs.
 */
export function createRelay(deps: RelayDeps): Relay {
  const { connections, sources, context, schemaOf, instanceId, takeOverAfterMs } = deps
  const { pool, translate } = connections
  let relayTimer: NodeJS.Timeout | undefined
  let relaying: Promise<void> | undefined
  /** A notification came while a pass ran: another pass follows it at once. */
  let relayAgain = false
  let listener: { stop(): Promise<void> } | undefined
  let running = false
  /** Whether the last relay pass failed: a database that is away is reported once, not four times a second. */
  let relayFailing = false
  /** When every schema was last looked through for rows left behind (the frequent pass looks at the outside's only). */
  let lastFullPass = 0

  async function claimPending(module: string, all: boolean): Promise<DeliveryState[]> {
    const schema = schemaOf(module)
    // With a broker, a row of this instance's still waiting after `takeOverAfterMs` was lost track of too (a
    // commit whose answer was lost): its writer would have published it within moments. With the embedded
    // transport, this instance's rows wait in its queues, however long.
    const whose = all ? 'all' : context.reachesOtherProcesses ? 'unclaimed-or-stale' : 'others-stale'
    const { rows } = await pool.query<OutboxRowRead>(claimOutboxRows(schema, whose), all ? [instanceId] : [instanceId, takeOverAfterMs, relayBatch])
    return sources.fromOutboxRows(schema, rows)
  }

  async function relayPass(): Promise<void> {
    // Unclaimed rows (a caller's own transaction) are only ever the outside's: looked for at every pass. Rows a
    // writer lost are taken over only after `takeOverAfterMs`: every schema is looked through a few times in that.
    // Real time, as the pass's own timer and the database's claim times are.
    const full = Date.now() - lastFullPass >= takeOverAfterMs / 4
    if (full) lastFullPass = Date.now()
    for (const module of full ? deps.relayed : [outsideModule]) {
      try {
        const found = await claimPending(module, false)
        if (found.length > 0) context.relay(found)
      } catch (error) {
        if (!relayFailing) context.onError(translate(error), `relaying pending messages of ${module} from PostgreSQL (tried again until it answers)`)
        relayFailing = true
        return
      }
    }
    relayFailing = false
  }

  function runRelayPass(): void {
    relayTimer = undefined
    relaying = relayPass().finally(() => {
      relaying = undefined
      if (!running) return
      if (relayAgain) {
        relayAgain = false
        runRelayPass()
      } else scheduleRelay()
    })
  }

  function scheduleRelay(): void {
    relayTimer = setTimeout(runRelayPass, deps.relayEveryMs)
    relayTimer.unref()
  }

  /** A caller's transaction committed messages (its NOTIFY arrived): a pass now, not at the timer. */
  function relaySoon(): void {
    if (!running) return
    if (relaying) {
      relayAgain = true
      return
    }
    if (relayTimer) clearTimeout(relayTimer)
    runRelayPass()
  }

  return {
    claimPending,
    async relayLeftBehind(module, causationId) {
      const schema = schemaOf(module)
      try {
        const { rows } = await pool.query<OutboxRowRead>(claimRowsSentBy(schema), [instanceId, causationId, takeOverAfterMs])
        if (rows.length > 0) context.relay(sources.fromOutboxRows(schema, rows))
      } catch (error) {
        context.onError(translate(error), `looking for messages ${module} sent while handling ${causationId}`)
      }
    },
    start() {
      running = true
      scheduleRelay()
      listener = listenForOutsideSends({ connect: () => connections.connect(), channel: schemaOf(outsideModule), onNotify: relaySoon, onListening: relaySoon, retryAfterMs: 1_000 })
    },
    idle: () => relaying ?? Promise.resolve(),
    async stop() {
      running = false
      if (relayTimer) clearTimeout(relayTimer)
      await listener?.stop()
      await relaying
    },
  }
}
