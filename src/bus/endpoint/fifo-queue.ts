/**
 * A first-in-first-out queue with O(1) push and shift. `Array.prototype.shift` is O(n), which is how a
 * known Node bus drains a 100k backlog in O(n^2).
 */
export class FifoQueue<T> {
  #items: (T | undefined)[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    // Reclaim the dead prefix once it is most of the array, keeping shift amortised O(1).
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** The first `count` items (fewer when shorter), left in the queue. */
  peek(count: number): T[] {
    return this.#items.slice(this.#head, this.#head + count) as T[]
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T
  }
}
