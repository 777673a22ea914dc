import type { Envelope } from '../../messages/envelope.js'
import type { DeliveryState } from '../../delivery/delivery.js'

/**
 * Where a delivery's message is kept until its module has an outcome for it: an outbox row, the module's
 * waiting table, or (a transport whose queues are tables of this database) a queue row, which `consume`
 * (the transport's statement) deletes.
 */
export type DeliverySource = { kind: 'outbox'; schema: string; rowId: string } | { kind: 'waiting'; schema: string } | { kind: 'queue'; consume: string }

/** A pending outbox row, as read back. */
export interface OutboxRowRead {
  id: string
  envelope: Envelope
  destinations: string[]
  due_at: Date | null
  created_at: Date
}

/** A delivery the PostgreSQL persistence tracks: the bus's DeliveryState, without the journal's bookkeeping. */
export function newDelivery(id: string, module: string, env: Envelope | undefined, at: number | undefined, since: number): DeliveryState {
  return { id, module, kind: undefined, env, at, failures: undefined, since, settled: undefined }
}
