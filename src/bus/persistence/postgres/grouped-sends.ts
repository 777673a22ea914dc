import type { OutgoingEntry } from '../../delivery/delivery.js'

interface Waiting<R> {
  msgs: readonly OutgoingEntry[]
  resolve: (result: R[]) => void
  reject: (error: unknown) => void
}

/**
 * Group commit for sends from outside handlers: while one INSERT is on its way, the sends that arrive wait
 * and then go together in the next one (one round trip and one WAL flush for all of them). A lone send goes
 * at once; under load, each round trip carries what arrived during the last. `write` returns one result
 * per message row, in order; each caller gets the results of its own messages.
 */
export function groupedSends<R>(write: (msgs: OutgoingEntry[]) => Promise<R[][]>): (msgs: readonly OutgoingEntry[]) => Promise<R[]> {
  let queued: Waiting<R>[] = []
  let writing = false

  async function flush(): Promise<void> {
    writing = true
    while (queued.length > 0) {
      const group = queued
      queued = []
      try {
        const results = await write(group.flatMap((waiting) => waiting.msgs))
        let at = 0
        for (const waiting of group) {
          waiting.resolve(results.slice(at, at + waiting.msgs.length).flat())
          at += waiting.msgs.length
        }
      } catch (error) {
        for (const waiting of group) waiting.reject(error)
      }
    }
    writing = false
  }

  return (msgs) =>
    new Promise<R[]>((resolve, reject) => {
      queued.push({ msgs, resolve, reject })
      if (!writing) void flush()
    })
}
