import type { Clock } from '../clock.js'
import type { Persistence } from '../persistence/persistence.js'
import type { AuditDoc } from './conversation-step.js'

export interface AuditRetentionOptions {
  outbox: Persistence
  modules: readonly string[]
  /** Conversations kept per module at most; the oldest go first. */
  maxConversations: number
  /** Conversations whose first step here is older than this go. */
  maxAgeMs: number
  clock: Clock
  onError: (error: unknown) => void
}

/** Deletions per record batch: one group commit each, a turn of the event loop between. */
const batch = 500
/** How often the retention looks, besides at start. */
export const auditSweepEveryMs = 60_000

/**
 * Keeps the audit within its retention: per module, at most `maxConversations` conversations, none whose
 * first step is older than `maxAgeMs`. Deletions are `doc` records like any, so compaction then frees the
 * segments that held them.
 */
export function createAuditRetention(options: AuditRetentionOptions) {
  const { outbox, clock } = options
  let running: Promise<void> | undefined

  async function sweepModule(module: string): Promise<void> {
    const data = outbox.data(module)
    const table = data?.auditTable
    if (!data || !table) return
    // By count: the oldest first.
    for (let excess = table.index.size - options.maxConversations; excess > 0; excess = table.index.size - options.maxConversations) {
      const slots = table.index.page('oldest', undefined, Math.min(excess, batch))
      const deleted = await outbox.commitDeletes(module, table, slots.map((slot) => table.index.keyOf(slot)))
      if (deleted === 0) break
    }
    // By age: the oldest first, until one is young enough.
    const oldestAllowed = clock.now() - options.maxAgeMs
    for (;;) {
      const old: string[] = []
      let young = false
      for (const slot of table.index.page('oldest', undefined, batch)) {
        const key = table.index.keyOf(slot)
        const doc = (await data.read(table, key)) as AuditDoc | undefined
        const first = doc?.steps[0]?.at
        if (first !== undefined && first >= oldestAllowed) {
          young = true
          break
        }
        old.push(key)
      }
      const deleted = old.length > 0 ? await outbox.commitDeletes(module, table, old) : 0
      if (young || deleted === 0) break
    }
  }

  async function sweep(): Promise<void> {
    try {
      for (const module of options.modules) await sweepModule(module)
    } catch (error) {
      options.onError(error)
    } finally {
      running = undefined
    }
  }

  return {
    /** Starts a sweep unless one runs. */
    request(): void {
      running ??= sweep()
    },
    async idle(): Promise<void> {
      await running
    },
  }
}
