import { ConsumerStatus, type Connection, type Consumer, type Publisher } from 'rabbitmq-client'
import { forRetry } from '../recoverability/failure-headers.js'
import { createFailedIndex, failedKey, type FailedMessage } from '../recoverability/error-queue.js'
import { asParked, sendTo, sendUndecodable } from './amqp-wire.js'
import type { RemoteErrorQueue } from './transport.js'

interface Held {
  failed: FailedMessage
  settle: (status: ConsumerStatus) => void
}

export interface BrokerErrorQueueOptions {
  connection: Connection
  publisher: Publisher
  queue: string
  queueOf: (module: string) => string
  /** Where a message that is not a parked Mailroom message goes, so it neither blocks nor vanishes. */
  undecodable: string
  /** Keeps a deleted message for people (an archive), before the broker forgets it. */
  archive: (message: FailedMessage) => Promise<void>
  onError: (error: unknown) => void
}

/**
 * The broker's error queue as the console sees it. Its messages are held unacknowledged while they are
 * listed, so the broker keeps them (a crash of the console loses nothing: they are delivered again).
 * Retry publishes one to its module's queue (confirmed) and then acknowledges it; delete archives it and
 * then acknowledges it. A copy that arrives again under the same key replaces the one held.
 */
export function browseBrokerErrorQueue(options: BrokerErrorQueueOptions): RemoteErrorQueue & { consumer: Consumer; release(): void } {
  const held = createFailedIndex<Held>()
  const consumer = options.connection.createConsumer(
    // Each held message is one unacknowledged delivery; the prefetch bounds how many the console lists.
    { queue: options.queue, queueOptions: { durable: true }, qos: { prefetchCount: 10_000 }, concurrency: 10_000, requeue: true },
    async (message) => {
      const parked = asParked(message.body)
      if (!parked) {
        await sendUndecodable(options.publisher, options.undecodable, message.body, { 'mailroom.undecodable.reason': `not a parked Mailroom message (found in ${options.queue})` })
        return ConsumerStatus.ACK
      }
      const { module, env, failures } = parked
      const key = failedKey(module, env.id)
      for (const earlier of held.take([key]).taken) earlier.settle(ConsumerStatus.ACK)
      return new Promise<ConsumerStatus>((settle) => {
        held.add(module, env.id, { failed: { key, id: env.id, module, type: env.type, envelope: env, failures, failedAt: failures[0]?.at ?? Date.now() }, settle })
      })
    },
  )
  consumer.on('error', options.onError)

  /**
   * Acknowledges a taken message once `work` (resending or archiving it) succeeded, and lists its key in
   * `done`; if the work fails, the message is held and listed again and the error goes to the caller.
   */
  async function settleAfter(entry: Held, work: () => Promise<unknown>, done: string[]): Promise<void> {
    try {
      await work()
    } catch (error) {
      held.add(entry.failed.module, entry.failed.id, entry)
      throw error
    }
    entry.settle(ConsumerStatus.ACK)
    done.push(entry.failed.key)
  }

  return {
    consumer,
    /** Hands every held message back to the broker (on stop), so the consumer can close. */
    release() {
      for (const entry of held.take(held.values().map((entry) => entry.failed.key)).taken) entry.settle(ConsumerStatus.REQUEUE)
    },
    list: () => held.values().map((entry) => entry.failed).sort((a, b) => b.failedAt - a.failedAt),
    size: (module) => held.size(module),
    async retry(keys) {
      const { taken, notFound } = held.take(keys)
      const retried: string[] = []
      await Promise.all(taken.map((entry) => settleAfter(entry, () => sendTo(options.publisher, options.queueOf(entry.failed.module), forRetry(entry.failed.envelope)), retried)))
      return { retried, notFound }
    },
    async delete(keys) {
      const { taken, notFound } = held.take(keys)
      const deleted: string[] = []
      for (const entry of taken) await settleAfter(entry, () => options.archive(entry.failed), deleted)
      return { deleted, notFound }
    },
  }
}
