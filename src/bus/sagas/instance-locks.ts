/**
 * One message at a time per saga instance: a message for an instance waits until the one before it has
 * committed, so two messages arriving together cannot both start from the same data (no lost update).
 * Different instances do not wait for each other.
 */
export class InstanceLocks {
  readonly #tails = new Map<string, Promise<void>>()

  /** Resolves, once every key is free, with the function that frees them again. Keys are taken in order, so two holders never wait for each other. */
  async acquire(keys: readonly string[]): Promise<() => void> {
    const releases: (() => void)[] = []
    for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquireOne(key))
    return () => {
      for (const release of releases.reverse()) release()
    }
  }

  #acquireOne(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let free!: () => void
    const mine = new Promise<void>((resolve) => (free = resolve))
    const tail = previous.then(() => mine)
    this.#tails.set(key, tail)
    return previous.then(() => () => {
      free()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
  }
}
