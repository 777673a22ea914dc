import type { SagaStore } from '../../sagas/saga-store.js'
import type { PersistenceContext } from '../persistence.js'
import type { Connections } from './connections.js'
import { outsideModule } from './postgres-options.js'
import { activeSagas, deleteAuditBeyond, deleteDispatched, deleteOldAuditSteps, deleteOldInboxMarks } from './statements.js'

/** How often, with a broker, the console's view of active saga instances is read again (other instances change them). */
const sagaListEveryMs = 2_000
/** How often handled messages' rows are cleaned up. */
const cleanUpEveryMs = 60_000

export interface BackgroundDeps {
  connections: Connections
  context: PersistenceContext
  sagas: SagaStore
  schemaOf: (module: string) => string
  /** The modules whose outboxes this instance relays: it cleans up their rows too. */
  relayed: readonly string[]
  keepHandledMs: number
}

export interface Background {
  /** A module's active saga instances, as the database has them, into the store the console reads. */
  readSagasOf(module: string): Promise<void>
  /** What must not grow forever: inbox marks and dispatched rows past `keepHandledMs`, the audit past its retention. */
  cleanUp(): Promise<void>
  start(): void
  stop(): Promise<void>
}

/** What the PostgreSQL persistence does by itself while the bus runs: cleaning up, and (with a broker) reading saga instances again. */
export function createBackground(deps: BackgroundDeps): Background {
  const { connections, context, sagas, schemaOf } = deps
  const { pool, translate } = connections
  let cleanupTimer: NodeJS.Timeout | undefined
  let sagaTimer: NodeJS.Timeout | undefined
  let sagaReading: Promise<void> | undefined
  /** Whether the last reading of the saga instances failed: reported once, not every time. */
  let sagaReadFailing = false

  async function readSagasOf(module: string): Promise<void> {
    const { rows } = await pool.query<{ saga: string; correlation_id: string; instance: string; data: unknown }>(activeSagas(schemaOf(module)))
    sagas.replace(module, rows.map((row) => ({ saga: row.saga, id: row.correlation_id, instance: row.instance, data: row.data })))
  }

  /**
   * With a broker, other instances of this process's modules change their sagas too: the console's list and
   * count of a module's active instances (the only readers of this store here: attempts read each instance
   * in their transaction) are read again from the database every few seconds, not just at start.
   */
  async function readSagas(): Promise<void> {
    try {
      for (const module of context.modules) await readSagasOf(module)
      sagaReadFailing = false
    } catch (error) {
      if (!sagaReadFailing) context.onError(translate(error), 'reading the active saga instances from PostgreSQL (tried again until it answers)')
      sagaReadFailing = true
    }
  }

  async function cleanUp(): Promise<void> {
    for (const module of deps.relayed) {
      const schema = schemaOf(module)
      try {
        await pool.query(deleteDispatched(schema), [deps.keepHandledMs])
        if (module === outsideModule) continue
        await pool.query(deleteOldInboxMarks(schema), [deps.keepHandledMs])
        // The audit's steps past its age (createBus({ audit: { maxAgeMs } })).
        if (context.auditMaxAgeMs !== undefined) await pool.query(deleteOldAuditSteps(schema), [context.auditMaxAgeMs])
        // Past its count (createBus({ audit: { maxConversations } })): the conversations whose first step here is oldest go.
        if (context.auditMaxConversations !== undefined) await pool.query(deleteAuditBeyond(schema), [context.auditMaxConversations])
      } catch (error) {
        context.onError(translate(error), `cleaning up handled messages of ${module} in PostgreSQL`)
      }
    }
  }

  return {
    readSagasOf,
    cleanUp,
    start() {
      cleanupTimer = setInterval(() => void cleanUp(), cleanUpEveryMs)
      cleanupTimer.unref()
      if (context.reachesOtherProcesses) {
        sagaTimer = setInterval(() => {
          sagaReading ??= readSagas().finally(() => (sagaReading = undefined))
        }, sagaListEveryMs)
        sagaTimer.unref()
      }
    },
    async stop() {
      if (cleanupTimer) clearInterval(cleanupTimer)
      if (sagaTimer) clearInterval(sagaTimer)
      await sagaReading
    },
  }
}
