import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState } from '../delivery/delivery.js'
import type { FailureRecord } from '../delivery/delivery.js'

/** A message in the error queue, as people see it. */
export interface FailedMessage {
  /** `<module>:<message id>`: one event can fail in several modules, each on its own. */
  key: string
  id: string
  module: string
  type: string
  envelope: Envelope
  /** Every failed attempt, newest first. */
  failures: FailureRecord[]
  failedAt: number
}

/** The error queues of all modules, in memory; the journals' `failed` records are the truth behind it. */
export interface ErrorQueue {
  add(state: DeliveryState): void
  /** Removes and returns the entries for keys (`module:id`) or plain ids (every module it failed in). */
  take(idsOrKeys: readonly string[]): { taken: DeliveryState[]; notFound: string[] }
  all(): DeliveryState[]
  size(module?: string): number
}

export const failedKey = (module: string, id: string) => `${module}:${id}`

export function toFailedMessage(state: DeliveryState): FailedMessage {
  const env = state.env!
  const failures = state.failures ?? []
  return {
    key: failedKey(state.module, state.id),
    id: state.id,
    module: state.module,
    type: env.type,
    envelope: env,
    failures,
    failedAt: failures[0]?.at ?? state.since,
  }
}

/**
 * Failed messages by key (`module:id`), also found by plain message id (every module it failed in):
 * the shape both the journal-backed error queue and the broker's (browsed by a console) keep.
 */
export interface FailedIndex<T> {
  add(module: string, id: string, item: T): void
  /** Removes and returns the items for keys or plain ids; the values matching nothing come back as notFound. */
  take(idsOrKeys: readonly string[]): { taken: T[]; notFound: string[] }
  values(): T[]
  size(module?: string): number
}

export function createFailedIndex<T>(): FailedIndex<T> {
  const byKey = new Map<string, { module: string; id: string; item: T }>()
  const keysById = new Map<string, Set<string>>()
  return {
    add(module, id, item) {
      const key = failedKey(module, id)
      byKey.set(key, { module, id, item })
      const keys = keysById.get(id) ?? new Set<string>()
      keys.add(key)
      keysById.set(id, keys)
    },
    take(idsOrKeys) {
      const taken: T[] = []
      const notFound: string[] = []
      for (const value of new Set(idsOrKeys)) {
        const keys = byKey.has(value) ? [value] : [...(keysById.get(value) ?? [])]
        if (keys.length === 0) notFound.push(value)
        for (const key of keys) {
          const entry = byKey.get(key)
          if (!entry) continue
          byKey.delete(key)
          const siblings = keysById.get(entry.id)
          siblings?.delete(key)
          if (siblings?.size === 0) keysById.delete(entry.id)
          taken.push(entry.item)
        }
      }
      return { taken, notFound }
    },
    values: () => [...byKey.values()].map((entry) => entry.item),
    size(module) {
      if (module === undefined) return byKey.size
      let count = 0
      for (const entry of byKey.values()) if (entry.module === module) count++
      return count
    },
  }
}

export function createErrorQueue(): ErrorQueue {
  const index = createFailedIndex<DeliveryState>()
  return {
    add: (state) => index.add(state.module, state.id, state),
    take: (idsOrKeys) => index.take(idsOrKeys),
    all: () => index.values(),
    size: (module) => index.size(module),
  }
}
