import { createNoopMeter, metrics, type Attributes as MetricAttributes, type Counter, type Histogram, type Meter } from '@opentelemetry/api'
import { Headers } from '../messages/headers.js'
import type { OutgoingEntry } from '../outbox/record.js'
import { Attributes, instrumentationScope, messagingSystem } from './attributes.js'

/** The API's no-op meter, what `metrics.getMeter` gives while no SDK registered a meter provider. */
const noopMeterClass = createNoopMeter().constructor as new () => Meter

/** Seconds: the unit OpenTelemetry's conventions give durations. */
const toSeconds = (ms: number) => ms / 1000

/**
 * The bus's instruments, through an OpenTelemetry meter: messages sent and consumed and how long handling
 * took (the messaging conventions' names), and Mailroom's own critical time, retries, moves to the error
 * queue and queue lengths. No-ops until `bind()` finds a meter provider (the bus binds at start, so an
 * SDK registered before `bus.start()` gets them all).
 */
export class BusMetrics {
  #sent: Counter
  #consumed: Counter
  #processDuration: Histogram
  #criticalTime: Histogram
  #retries: Counter
  #errorQueueMoves: Counter
  /** Attributes reused per destination (and per module), not built for every message. */
  readonly #sentAttributes = new Map<string, MetricAttributes>()
  readonly #moduleAttributes = new Map<string, MetricAttributes>()
  /** False while the meter is the API's no-op one: the calls below return before building anything. */
  #on = false

  constructor(private readonly queueLengths: () => Iterable<readonly [module: string, length: number]>) {
    const meter = createNoopMeter()
    this.#sent = meter.createCounter('noop')
    this.#consumed = this.#sent
    this.#retries = this.#sent
    this.#errorQueueMoves = this.#sent
    this.#processDuration = meter.createHistogram('noop')
    this.#criticalTime = this.#processDuration
  }

  /** Creates the instruments from the global meter provider (the SDK's, once the application registered one). */
  bind(meter: Meter = metrics.getMeter(instrumentationScope)): void {
    this.#on = !(meter instanceof noopMeterClass)
    if (!this.#on) return
    this.#sent = meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Messages committed for sending (sent, published, replied, deferred)' })
    this.#consumed = meter.createCounter('messaging.client.consumed.messages', { unit: '{message}', description: 'Messages handled and committed by a module' })
    this.#processDuration = meter.createHistogram('messaging.process.duration', { unit: 's', description: 'How long a module took to handle a message, retries included' })
    this.#criticalTime = meter.createHistogram('mailroom.critical_time', { unit: 's', description: 'From when a message was sent to when its handling was committed' })
    this.#retries = meter.createCounter('mailroom.retries', { unit: '{attempt}', description: 'Failed attempts followed by another (immediate or delayed)' })
    this.#errorQueueMoves = meter.createCounter('mailroom.error_queue.moves', { unit: '{message}', description: 'Messages moved to the error queue' })
    meter.createObservableGauge('mailroom.queue.length', { unit: '{message}', description: "Messages waiting in a module's queue in this process" }).addCallback((result) => {
      for (const [module, length] of this.queueLengths()) result.observe(length, this.#forModule(module))
    })
  }

  /** Messages just committed to leave (from a handler, or from outside). */
  sent(entries: readonly OutgoingEntry[]): void {
    if (!this.#on) return
    for (const entry of entries) {
      const isEvent = entry.env.headers[Headers.Kind] === 'event'
      const destination = isEvent ? entry.env.type : entry.to.join(',')
      const key = (isEvent ? 'publish ' : 'send ') + destination
      let attributes = this.#sentAttributes.get(key)
      if (!attributes) {
        attributes = { [Attributes.System]: messagingSystem, [Attributes.OperationName]: isEvent ? 'publish' : 'send', [Attributes.DestinationName]: destination }
        this.#sentAttributes.set(key, attributes)
      }
      this.#sent.add(1, attributes)
    }
  }

  /** A message handled and committed by `module`. */
  handled(module: string, durationMs: number, criticalTimeMs: number): void {
    if (!this.#on) return
    const attributes = this.#forModule(module)
    this.#consumed.add(1, attributes)
    this.#processDuration.record(toSeconds(durationMs), attributes)
    this.#criticalTime.record(toSeconds(criticalTimeMs), attributes)
  }

  /** A failed attempt that another follows. */
  retried(module: string, kind: 'immediate' | 'delayed'): void {
    if (!this.#on) return
    this.#retries.add(1, { ...this.#forModule(module), 'mailroom.retry.kind': kind })
  }

  /** A message that left its module for the error queue, after `durationMs` of trying. */
  movedToErrorQueue(module: string, errorType: string, durationMs: number): void {
    if (!this.#on) return
    const attributes = { ...this.#forModule(module), [Attributes.ErrorType]: errorType }
    this.#errorQueueMoves.add(1, attributes)
    this.#processDuration.record(toSeconds(durationMs), attributes)
  }

  #forModule(module: string): MetricAttributes {
    let attributes = this.#moduleAttributes.get(module)
    if (!attributes) {
      attributes = { [Attributes.System]: messagingSystem, [Attributes.OperationName]: 'process', [Attributes.DestinationName]: module, [Attributes.ConsumerGroup]: module }
      this.#moduleAttributes.set(module, attributes)
    }
    return attributes
  }
}
