import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { FileSystem } from '../../bus/index.js'
import type { SharedGatewayMemory } from './shared-gateway-memory.js'

/** The payment provider's answer when it is asked too often: transient, so the bus retries it. */
export class GatewayRateLimitedError extends Error {
  constructor(limitPerSecond: number) {
    super(`Payment gateway rate limit exceeded (${limitPerSecond} charges per second); try again later`)
    this.name = 'GatewayRateLimitedError'
  }
}

export interface ChargeResult {
  chargeId: string
  /** The gateway had seen this idempotency key before: it answered from memory and took no money. */
  duplicate: boolean
}

export interface GatewayCounts {
  /** Charges taken (money moved). */
  charged: number
  /** Requests answered from memory because their idempotency key was already used. */
  duplicates: number
  /** Orders charged more than once: what the idempotency key exists to keep at 0. */
  chargedTwice: number
}

export interface PaymentGateway extends GatewayCounts {
  /**
   * Reads back the keys it has seen from `store` (its own memory, not the bus's: a file of its own, one
   * JSON line per charge, written before it answers). Without a store it remembers in memory only.
   */
  open(store?: GatewayStore): Promise<void>
  /**
   * Charges an order once per idempotency key: a repeated key (a redelivered message, a retry after a
   * timeout) gets the first charge's answer and moves no money, as real gateways do.
   */
  charge(idempotencyKey: string, orderId: string): Promise<ChargeResult>
  /** How often money was taken for the order (0: never). */
  timesCharged(orderId: string): number
  close(): Promise<void>
}

/**
 * Where the gateway remembers the keys it has seen, so it still recognises them after a restart: a folder
 * of its own, or (Billing as several instances) a memory they all share.
 */
export type GatewayStore = { fileSystem: FileSystem; dir: string } | { shared: SharedGatewayMemory }

export interface PaymentGatewayOptions {
  /** Charges per second it takes at most; undefined turns the limit off (benchmarks). */
  limitPerSecond: number | undefined
  now?: () => number
}

interface Remembered {
  key: string
  orderId: string
  chargeId: string
}

/**
 * A simulated payment gateway: an outside service, so its memory is its own (not the bus's journal).
 * Like real ones it refuses more than `limitPerSecond` requests in any one-second window, and takes an
 * idempotency key with each charge.
 */
export function createPaymentGateway(options: PaymentGatewayOptions): PaymentGateway {
  const now = options.now ?? Date.now
  const recent: number[] = []
  const byKey = new Map<string, string>()
  const chargesPerOrder = new Map<string, number>()
  const counts: GatewayCounts = { charged: 0, duplicates: 0, chargedTwice: 0 }
  let handle: Awaited<ReturnType<FileSystem['openAppend']>> | undefined
  let shared: SharedGatewayMemory | undefined
  // Lines wait here for the next write; one write answers every charge in it. Written, not synced: what
  // it remembers outlives a crash of this process (the operating system holds the bytes), which is all a
  // simulated outside service needs. Synced, Billing waited for the disk at every charge and the shop
  // shipped 1.7k orders a second instead of 5.6k (npm run bench -- --quick --only http).
  let waiting: { line: string; resolve: () => void; reject: (error: unknown) => void }[] = []
  let writing: Promise<void> | undefined

  function remember({ key, orderId, chargeId }: Remembered): void {
    byKey.set(key, chargeId)
    const times = (chargesPerOrder.get(orderId) ?? 0) + 1
    chargesPerOrder.set(orderId, times)
    counts.charged++
    if (times === 2) counts.chargedTwice++
  }

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      const batch = waiting
      waiting = []
      try {
        await handle!.append(Buffer.from(batch.map((entry) => entry.line).join('')))
        for (const entry of batch) entry.resolve()
      } catch (error) {
        for (const entry of batch) entry.reject(error)
      }
    }
    writing = undefined
  }

  function persist(entry: Remembered): Promise<void> {
    if (!handle) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      waiting.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject })
      writing ??= Promise.resolve().then(flush)
    })
  }

  return {
    get charged() {
      return counts.charged
    },
    get duplicates() {
      return counts.duplicates
    },
    get chargedTwice() {
      return counts.chargedTwice
    },
    async open(store) {
      if (!store) return
      if ('shared' in store) {
        shared = store.shared
        return
      }
      const { fileSystem, dir } = store
      const file = join(dir, 'charges.jsonl')
      await fileSystem.mkdir(dir)
      const text = new TextDecoder().decode(await fileSystem.readFile(file).catch(() => new Uint8Array()))
      for (const line of text.split('\n')) {
        if (line === '') continue
        try {
          remember(JSON.parse(line) as Remembered)
        } catch {
          // A line torn by a crash mid-write: that charge was never answered, so it was never taken.
        }
      }
      handle = await fileSystem.openAppend(file, { synced: false })
    },
    timesCharged: (orderId) => chargesPerOrder.get(orderId) ?? 0,
    async charge(idempotencyKey, orderId) {
      const limit = options.limitPerSecond
      if (limit !== undefined) {
        const at = now()
        while (recent.length > 0 && recent[0]! <= at - 1000) recent.shift()
        if (recent.length >= limit) throw new GatewayRateLimitedError(limit)
        recent.push(at)
      }
      if (shared) {
        const answer = await shared.claim(idempotencyKey, orderId, `ch-${randomUUID().slice(0, 12)}`)
        if (answer.duplicate) counts.duplicates++
        else remember({ key: idempotencyKey, orderId, chargeId: answer.chargeId })
        return answer
      }
      const known = byKey.get(idempotencyKey)
      if (known !== undefined) {
        counts.duplicates++
        return { chargeId: known, duplicate: true }
      }
      const entry = { key: idempotencyKey, orderId, chargeId: `ch-${randomUUID().slice(0, 12)}` }
      // Remembered before the answer, so a second request with the key while this one is written is a duplicate.
      remember(entry)
      await persist(entry)
      return { chargeId: entry.chargeId, duplicate: false }
    },
    async close() {
      await writing
      await handle?.close()
      handle = undefined
    },
  }
}
