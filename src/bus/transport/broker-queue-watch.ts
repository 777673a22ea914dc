import type { Transport } from './transport.js'

/** How often, with a broker and an OpenTelemetry meter, the broker's queue lengths are read for `mailroom.queue.length`. */
const brokerQueuesEveryMs = 5_000

/**
 * With a broker: each module's queue there, as last read. The queue-length gauge is read synchronously and
 * the broker answers asynchronously, so the lengths are read ahead, a passive declare per module.
 */
export class BrokerQueueWatch {
  #lengths: Readonly<Record<string, number>> = {}

  lengthOf(module: string): number {
    return this.#lengths[module] ?? 0
  }

  /** Reads now and every few seconds; returns how to stop. */
  start(transport: Transport): () => void {
    const read = () => void transport.queueLengths().then((lengths) => void (lengths && (this.#lengths = lengths)))
    read()
    const timer = setInterval(read, brokerQueuesEveryMs)
    timer.unref()
    return () => clearInterval(timer)
  }
}
