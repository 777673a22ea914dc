/**
 * Documents recently written or read, kept in memory with the version they had, so the next read of the
 * same key needs no trip to the disk (the shop reads an order's shipment twice within milliseconds, and a
 * conversation's audit document grows a step per message). Bounded by a weight (a count of documents, or
 * of audit steps); the least recently used go first.
 */
export class RecentDocs {
  readonly #entries = new Map<string, { version: number; doc: unknown; weight: number }>()
  #weight = 0

  constructor(
    private readonly limit: number,
    private readonly weigh: (doc: unknown) => number = () => 1,
  ) {}

  /** The document the key had at `version`, if kept. */
  get(key: string, version: number): unknown {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.version !== version) {
      this.delete(key)
      return undefined
    }
    // Used again: to the back of the line.
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.doc
  }

  set(key: string, version: number, doc: unknown): void {
    this.delete(key)
    const weight = this.weigh(doc)
    this.#entries.set(key, { version, doc, weight })
    this.#weight += weight
    if (this.#weight > this.limit) this.#evict()
  }

  /** Down to nine tenths of the limit in one pass: one iterator per many documents, not one per document. */
  #evict(): void {
    const target = this.limit * 0.9
    for (const [key, entry] of this.#entries) {
      if (this.#weight <= target || this.#entries.size === 1) break
      this.#entries.delete(key)
      this.#weight -= entry.weight
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    this.#weight -= entry.weight
  }
}
