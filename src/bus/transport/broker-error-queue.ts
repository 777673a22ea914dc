import { ConsumerStatus, type Connection, type Consumer, type Publisher } from 'rabbitmq-client'
import type { Envelope } from '../messages/envelope.js'
import type { FailureRecord } from '../outbox/record.js'
import { forRetry } from '../recoverability/failure-headers.js'
import { failedKey, type FailedMessage } from '../recoverability/error-queue.js'
import type { RemoteErrorQueue } from './transport.js'

/** What a module puts in the broker's error queue: the message with its failure headers, and every attempt. */
export interface ParkedMessage {
  module: string
  env: Envelope
  failures: FailureRecord[]
}

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
  const held = new Map<string, Held>()
  const consumer = options.connection.createConsumer(
    // Each held message is one unacknowledged delivery; the prefetch bounds how many the console lists.
    { queue: options.queue, queueOptions: { durable: true }, qos: { prefetchCount: 10_000 }, concurrency: 10_000, requeue: true },
    async (message) => {
      const parked = message.body as Partial<ParkedMessage> | undefined
      if (!parked || typeof parked !== 'object' || typeof parked.module !== 'string' || !parked.env || typeof parked.env.id !== 'string') {
        await options.publisher.send(
          { exchange: '', routingKey: options.undecodable, durable: true, headers: { 'mailroom.undecodable.reason': `not a parked Mailroom message (found in ${options.queue})` } },
          Buffer.isBuffer(message.body) ? message.body : JSON.stringify(message.body ?? null),
        )
        return ConsumerStatus.ACK
      }
      const failures = Array.isArray(parked.failures) ? parked.failures : []
      const key = failedKey(parked.module, parked.env.id)
      held.get(key)?.settle(ConsumerStatus.ACK)
      return new Promise<ConsumerStatus>((settle) => {
        held.set(key, {
          failed: { key, id: parked.env!.id, module: parked.module!, type: parked.env!.type, envelope: parked.env!, failures, failedAt: failures[0]?.at ?? Date.now() },
          settle,
        })
      })
    },
  )
  consumer.on('error', options.onError)

  /** Takes the held entries for keys (`module:id`) or plain ids (every module it failed in). */
  function take(idsOrKeys: readonly string[]): { taken: Held[]; notFound: string[] } {
    const taken: Held[] = []
    const notFound: string[] = []
    for (const value of new Set(idsOrKeys)) {
      const keys = held.has(value) ? [value] : [...held.keys()].filter((key) => key.endsWith(`:${value}`))
      if (keys.length === 0) notFound.push(value)
      for (const key of keys) {
        taken.push(held.get(key)!)
        held.delete(key)
      }
    }
    return { taken, notFound }
  }

  return {
    consumer,
    /** Hands every held message back to the broker (on stop), so the consumer can close. */
    release() {
      for (const entry of held.values()) entry.settle(ConsumerStatus.REQUEUE)
      held.clear()
    },
    list: () => [...held.values()].map((entry) => entry.failed).sort((a, b) => b.failedAt - a.failedAt),
    size: (module) => (module === undefined ? held.size : [...held.values()].filter((entry) => entry.failed.module === module).length),
    async retry(keys) {
      const { taken, notFound } = take(keys)
      const retried: string[] = []
      await Promise.all(
        taken.map(async (entry) => {
          const env = forRetry(entry.failed.envelope)
          try {
            await options.publisher.send({ exchange: '', routingKey: options.queueOf(entry.failed.module), durable: true, messageId: env.id, type: env.type, headers: { ...env.headers } }, env)
          } catch (error) {
            // Not sent: it stays held and listed.
            held.set(entry.failed.key, entry)
            throw error
          }
          entry.settle(ConsumerStatus.ACK)
          retried.push(entry.failed.key)
        }),
      )
      return { retried, notFound }
    },
    async delete(keys) {
      const { taken, notFound } = take(keys)
      const deleted: string[] = []
      for (const entry of taken) {
        try {
          await options.archive(entry.failed)
        } catch (error) {
          held.set(entry.failed.key, entry)
          throw error
        }
        entry.settle(ConsumerStatus.ACK)
        deleted.push(entry.failed.key)
      }
      return { deleted, notFound }
    },
  }
}
