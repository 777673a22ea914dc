import type { Connection, Publisher } from 'rabbitmq-client'
import { asEnvelope, type Envelope } from '../messages/envelope.js'
import type { FailureRecord } from '../delivery/delivery.js'

/**
 * Mailroom messages as they travel through RabbitMQ: an envelope as the JSON body, its id, type and
 * headers also as AMQP properties (so broker tools show them), always persistent.
 */

/** What waits in a delay queue or the error queue: the message, the module it is for, and every attempt so far. */
export interface ParkedMessage {
  module: string
  env: Envelope
  failures: FailureRecord[]
}

/** The AMQP properties of a message carrying `env`. */
export function propertiesOf(env: Envelope) {
  return { durable: true, messageId: env.id, type: env.type, headers: { ...env.headers } }
}

/** Publishes `body` (an envelope, or a parked message) to `queue` through the default exchange; resolves once confirmed. */
export async function sendTo(publisher: Publisher, queue: string, env: Envelope, body: Envelope | ParkedMessage = env): Promise<void> {
  await publisher.send({ ...propertiesOf(env), exchange: '', routingKey: queue }, body)
}

/** Parks a body that is not what the queue should hold, with the reason, so it neither blocks the queue nor vanishes. */
export async function sendUndecodable(publisher: Publisher, queue: string, body: unknown, headers: Record<string, string>): Promise<void> {
  await publisher.send({ exchange: '', routingKey: queue, durable: true, headers }, Buffer.isBuffer(body) ? body : JSON.stringify(body ?? null))
}

export function asParked(body: unknown): ParkedMessage | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { module, env, failures } = body as Record<string, unknown>
  if (typeof module !== 'string' || !Array.isArray(failures) || !asEnvelope(env)) return undefined
  return body as ParkedMessage
}

/** Messages waiting in each module's queue, as the broker counts them (ready, not yet delivered). */
export async function readQueueLengths(connection: Connection, modules: Iterable<string>, queueOf: (module: string) => string): Promise<Record<string, number>> {
  const lengths: Record<string, number> = {}
  for (const module of modules) lengths[module] = (await connection.queueDeclare({ queue: queueOf(module), passive: true })).messageCount
  return lengths
}
