import { Headers } from '../messages/headers.js'
import type { OutgoingEntry } from '../delivery/delivery.js'

/**
 * The attribute names Mailroom's spans and metrics carry: OpenTelemetry's messaging semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/messaging/) where they name the thing, `mailroom.*` where
 * they do not. Written out here rather than imported from @opentelemetry/semantic-conventions, so the
 * library depends on @opentelemetry/api alone.
 */
export const Attributes = {
  System: 'messaging.system',
  OperationType: 'messaging.operation.type',
  OperationName: 'messaging.operation.name',
  DestinationName: 'messaging.destination.name',
  ConsumerGroup: 'messaging.consumer.group.name',
  MessageId: 'messaging.message.id',
  ConversationId: 'messaging.message.conversation_id',
  ErrorType: 'error.type',
  /** The message's type (`PlaceOrder`): the destination of an event, but not of a command. */
  MessageType: 'mailroom.message.type',
  /** Delayed-retry rounds done before this attempt. */
  DelayedRetries: 'mailroom.delayed_retries',
  /** Times a person retried the message from the error queue. */
  ManualRetries: 'mailroom.manual_retries',
  RetryDelayMs: 'mailroom.retry.delay_ms',
  Attempt: 'mailroom.attempt',
} as const

/** `messaging.system`: no registered value fits an in-process bus, so its own name (as the conventions allow). */
export const messagingSystem = 'mailroom'

/** The instrumentation scope of every span and instrument. */
export const instrumentationScope = 'mailroom'

/**
 * `messaging.destination.name` of an outgoing message: an event's type (its topic: every subscriber gets a
 * copy), the module a command goes to. One place, for the producer span and the sent-messages counter.
 */
export function destinationOf(entry: OutgoingEntry): { isEvent: boolean; destination: string } {
  const isEvent = entry.env.headers[Headers.Kind] === 'event'
  return { isEvent, destination: isEvent ? entry.env.type : entry.to.join(',') || entry.env.type }
}
