import { createNoopMeter, metrics, type Attributes as MetricAttributes, type Histogram, type Meter } from '@opentelemetry/api'
import type { OutgoingEntry } from '../delivery/delivery.js'
import { Attributes, destinationOf, instrumentationScope, messagingSystem } from './attributes.js'

/** The API's no-op meter, what `metrics.getMeter` gives while no SDK registered a meter provider. */
const noopMeterClass = createNoopMeter().constructor as new () => Meter

/** Seconds: the unit OpenTelemetry's conventions give durations. */
const toSeconds = (ms: number) => ms / 1000

/** A count kept here and reported when the SDK collects, with the attributes it is reported under. */
interface Tally {
  readonly attributes: MetricAttributes
  count: number
}

/**
 * The bus's instruments, through an OpenTelemetry meter: messages sent and consumed and how long handling
 * took (the messaging conventions' names), and Mailroom's own critical time, retries, moves to the error
 * queue and queue lengths. Counts are kept here as plain numbers and read by the SDK when it collects
 * (observable counters): a record costs the SDK a hash of its attributes (`hashAttributes` was 13% of a
 * profile of the durable path with four records a message), so only the two histograms record per message.
 * Nothing at all until `bind()` finds a meter provider (the bus binds at start, so an SDK registered
 * before `bus.start()` gets them all).
 */
export class BusMetrics {
  #processDuration: Histogram | undefined
  #criticalTime: Histogram | undefined
  readonly #sent = new Map<string, Tally>()
  readonly #consumed = new Map<string, Tally>()
  readonly #retries = new Map<string, Tally>()
  readonly #errorQueueMoves = new Map<string, Tally>()
  /** Attributes reused per module, not built for every message. */
  readonly #moduleAttributes = new Map<string, MetricAttributes>()
  /** False while the meter is the API's no-op one: the calls below return before doing anything. */
  #on = false

  constructor(private readonly queueLengths: () => Iterable<readonly [module: string, length: number]>) {}

  /** Whether an SDK's meter provider takes the metrics (false until `bind()` found one). */
  get enabled(): boolean {
    return this.#on
  }

  /** Creates the instruments from the global meter provider (the SDK's, once the application registered one). */
  bind(meter: Meter = metrics.getMeter(instrumentationScope)): void {
    this.#on = !(meter instanceof noopMeterClass)
    if (!this.#on) return
    const observed = (name: string, unit: string, description: string, tallies: Map<string, Tally>) =>
      meter.createObservableCounter(name, { unit, description }).addCallback((result) => {
        for (const { attributes, count } of tallies.values()) result.observe(count, attributes)
      })
    observed('messaging.client.sent.messages', '{message}', 'Messages committed for sending (sent, published, replied, deferred)', this.#sent)
    observed('messaging.client.consumed.messages', '{message}', 'Messages handled and committed by a module', this.#consumed)
    observed('mailroom.retries', '{attempt}', 'Failed attempts followed by another (immediate or delayed)', this.#retries)
    observed('mailroom.error_queue.moves', '{message}', 'Messages moved to the error queue', this.#errorQueueMoves)
    this.#processDuration = meter.createHistogram('messaging.process.duration', { unit: 's', description: 'How long a module took to handle a message, retries included' })
    this.#criticalTime = meter.createHistogram('mailroom.critical_time', { unit: 's', description: 'From when a message was sent to when its handling was committed' })
    meter.createObservableGauge('mailroom.queue.length', { unit: '{message}', description: "Messages waiting in a module's queue: in this process, and at the broker when there is one" }).addCallback((result) => {
      for (const [module, length] of this.queueLengths()) result.observe(length, this.#forModule(module))
    })
  }

  /** Messages just committed to leave (from a handler, or from outside). */
  sent(entries: readonly OutgoingEntry[]): void {
    if (!this.#on) return
    for (const entry of entries) {
      const { isEvent, destination } = destinationOf(entry)
      const key = (isEvent ? 'publish ' : 'send ') + destination
      const tally = this.#sent.get(key)
      if (tally) tally.count++
      else this.#sent.set(key, { attributes: { [Attributes.System]: messagingSystem, [Attributes.OperationName]: isEvent ? 'publish' : 'send', [Attributes.DestinationName]: destination }, count: 1 })
    }
  }

  /** A message handled and committed by `module`. */
  handled(module: string, durationMs: number, criticalTimeMs: number): void {
    if (!this.#on) return
    const attributes = this.#forModule(module)
    this.#count(this.#consumed, module, () => attributes)
    this.#processDuration!.record(toSeconds(durationMs), attributes)
    this.#criticalTime!.record(toSeconds(criticalTimeMs), attributes)
  }

  /** A failed attempt that another follows. */
  retried(module: string, kind: 'immediate' | 'delayed'): void {
    if (!this.#on) return
    this.#count(this.#retries, `${module} ${kind}`, () => ({ ...this.#forModule(module), 'mailroom.retry.kind': kind }))
  }

  /** A message that left its module for the error queue, after `durationMs` of trying. */
  movedToErrorQueue(module: string, errorType: string, durationMs: number): void {
    if (!this.#on) return
    const attributes = { ...this.#forModule(module), [Attributes.ErrorType]: errorType }
    this.#count(this.#errorQueueMoves, `${module} ${errorType}`, () => attributes)
    this.#processDuration!.record(toSeconds(durationMs), attributes)
  }

  #count(tallies: Map<string, Tally>, key: string, attributes: () => MetricAttributes): void {
    const tally = tallies.get(key)
    if (tally) tally.count++
    else tallies.set(key, { attributes: attributes(), count: 1 })
  }

  #forModule(module: string): MetricAttributes {
    let attributes = this.#moduleAttributes.get(module)
    if (!attributes) {
      // No messaging.consumer.group.name: it is the module again.
      attributes = { [Attributes.System]: messagingSystem, [Attributes.OperationName]: 'process', [Attributes.DestinationName]: module }
      this.#moduleAttributes.set(module, attributes)
    }
    return attributes
  }
}
