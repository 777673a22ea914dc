import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState } from '../outbox/delivery-ledger.js'
import type { FailureRecord } from '../outbox/record.js'

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

export function createErrorQueue(): ErrorQueue {
  const byKey = new Map<string, DeliveryState>()
  const keysById = new Map<string, Set<string>>()
  return {
    add(state) {
      const key = failedKey(state.module, state.id)
      byKey.set(key, state)
      const keys = keysById.get(state.id) ?? new Set<string>()
      keys.add(key)
      keysById.set(state.id, keys)
    },
    take(idsOrKeys) {
      const taken: DeliveryState[] = []
      const notFound: string[] = []
      for (const value of new Set(idsOrKeys)) {
        const keys = byKey.has(value) ? [value] : [...(keysById.get(value) ?? [])]
        if (keys.length === 0) notFound.push(value)
        for (const key of keys) {
          const state = byKey.get(key)
          if (!state) continue
          byKey.delete(key)
          const siblings = keysById.get(state.id)
          siblings?.delete(key)
          if (siblings?.size === 0) keysById.delete(state.id)
          taken.push(state)
        }
      }
      return { taken, notFound }
    },
    all: () => [...byKey.values()],
    size(module) {
      if (module === undefined) return byKey.size
      let count = 0
      for (const state of byKey.values()) if (state.module === module) count++
      return count
    },
  }
}
