import type { Clock } from '../clock.js'
import { parseSagaKey, sagaKey, type SagaChange, type SagaStore } from '../sagas/saga-store.js'
import type { DeliveryLedger, LedgerEntry, Segment } from './delivery-ledger.js'
import type { JournalRecord, ReplayRecord } from './record.js'

/**
 * What each journal record means to the ledger (and to the saga store): the producer roles of the messages
 * it sent, the destination role it gives the delivery it is about, the saga instances it changes. Replay
 * and commits apply records alike; compaction asks for the record that carries a saga instance forward.
 */
export class LedgerRecords {
  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly sagas: SagaStore,
    /** With a broker: how long a consumed mark is held for a redelivery (0: none). */
    private readonly holdConsumedMs: number,
    private readonly clock: Clock,
  ) {}

  /** A commit's producer role: the messages a record sent, each a delivery per destination, kept in memory. */
  applyProduced(journal: string, segment: number, record: JournalRecord, offset: number, size: number): LedgerEntry[] {
    if (record.k !== 'out' && record.k !== 'handled') return []
    const where = this.ledger.segment(journal, segment)
    const states: LedgerEntry[] = []
    for (const entry of record.msgs) {
      for (const module of entry.to) states.push(this.ledger.produced(where, entry.env.id, entry.env, module, entry.at, record.t, offset, size))
    }
    return states
  }

  /**
   * Replay's producer role: like applyProduced, but the messages stay on disk and a queue reads them back
   * when their turn comes (readBack). Keeping a million replayed messages in memory cost most of replay's
   * time in the garbage collector, and could need more heap than the process has.
   */
  replayProduced(journal: string, segment: number, record: ReplayRecord, offset: number, size: number): void {
    if (record.k !== 'out' && record.k !== 'out-skimmed' && record.k !== 'handled') return
    const where = this.ledger.segment(journal, segment)
    for (const entry of record.msgs) {
      const id = 'id' in entry ? entry.id : entry.env.id
      for (const module of entry.to) this.ledger.produced(where, id, undefined, module, entry.at, record.t, offset, size)
    }
  }

  #applySaga(journal: string, where: Segment, change: SagaChange, t: number): void {
    this.ledger.recorded(where, sagaKey(change.saga, change.id), journal, change.done ? 'saga-done' : 'saga', t)
    this.sagas.apply(journal, change)
  }

  /** What compaction writes to carry a saga instance's role forward. */
  sagaRecord(state: LedgerEntry): JournalRecord {
    const instance = parseSagaKey(state.id)
    if (!instance) throw new Error(`not a saga key: ${state.id}`)
    if (state.kind === 'saga-done') return { k: 'saga', t: state.since, saga: instance.saga, id: instance.id, done: true }
    const active = this.sagas.get(state.module, instance.saga, instance.id)
    if (!active) throw new Error(`saga ${instance.saga} ${instance.id} of ${state.module} has a live record but no data`)
    return { k: 'saga', t: state.since, saga: instance.saga, id: instance.id, instance: active.instance, data: active.data }
  }

  /** `known`: the delivery the record is about, when the caller holds it (a commit); replay has none. */
  applyDestination(journal: string, segment: number, record: JournalRecord, known?: LedgerEntry): LedgerEntry | undefined {
    if (record.k === 'out' || record.k === 'archive' || record.k === 'doc') return undefined
    const where = this.ledger.segment(journal, segment)
    switch (record.k) {
      case 'saga':
        this.#applySaga(journal, where, record, record.t)
        return undefined
      case 'handled': {
        for (const change of record.sagas ?? []) this.#applySaga(journal, where, change, record.t)
        const keepUntil = this.holdConsumedMs > 0 ? record.t + this.holdConsumedMs : 0
        return this.ledger.recorded(where, record.id, journal, record.k, record.t, keepUntil > this.clock.now() ? { keepUntil } : undefined, known)
      }
      case 'forwarded':
        for (const { id, to } of record.sent) for (const module of to) this.ledger.recorded(where, id, module, 'forwarded', record.t)
        return undefined
      case 'archived':
      case 'parked':
        return this.ledger.recorded(where, record.id, journal, record.k, record.t, undefined, known)
      case 'retried':
        return this.ledger.recorded(where, record.id, journal, 'retried', record.t, { env: record.env }, known)
      case 'delayed':
        return this.ledger.recorded(where, record.id, journal, 'delayed', record.t, { env: record.env, at: record.at, failures: record.failures }, known)
      case 'failed':
        return this.ledger.recorded(where, record.id, journal, 'failed', record.t, { env: record.env, failures: record.failures }, known)
    }
  }
}
