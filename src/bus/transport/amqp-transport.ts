import { Connection, ConsumerStatus, type Consumer, type Publisher } from 'rabbitmq-client'
import { Headers } from '../messages/headers.js'
import { TransportUnconfirmedError } from '../errors.js'
import { asParked, propertiesOf, readQueueLengths, sendTo, sendUndecodable } from './amqp-wire.js'
import { asEnvelope } from '../messages/envelope.js'
import { browseBrokerErrorQueue } from './broker-error-queue.js'
import type { ParkedMessage } from './amqp-wire.js'
import type { Delivery, Transport, TransportHost, TransportTopology } from './transport.js'

export interface AmqpTransportOptions {
  /** e.g. `amqp://guest:guest@127.0.0.1:5672` */
  url: string
  /** Shown in the broker's connection list. */
  connectionName?: string
  /** Messages a module takes from its queue ahead of its handlers, per its concurrency. @default 4 */
  prefetchPerSlot?: number
  /** How long `stop()` waits for unconfirmed deliveries before it leaves them to the next start. @default 5000 */
  stopTimeoutMs?: number
  /** How long `start()` waits for the broker before it goes on (and keeps trying in the background). @default 10000 */
  connectTimeoutMs?: number
  /** Prefix of every queue and exchange, so several shops (or test runs) can share one broker. @default 'mailroom' */
  namespace?: string
  /**
   * This process hosts the console: it browses the broker's error queue (the modules' reports come over
   * createAmqpConsoleLink). @default false
   */
  console?: boolean
}

/** Names at the broker: one durable queue per module, one exchange for events, one queue for messages nobody can read. */
export function amqpNames(namespace = 'mailroom') {
  return {
    queueOf: (module: string) => `${namespace}.${module}`,
    events: `${namespace}.events`,
    error: `${namespace}.error`,
    status: `${namespace}.status`,
    control: `${namespace}.control`,
    /** One TTL queue per module and delay: expired messages dead-letter into the module's queue. */
    delayOf: (module: string, delayMs: number) => `${namespace}.delay.${module}.${delayMs}`,
    undecodable: `${namespace}.undecodable`,
  }
}

const retryDelaysMs = [100, 500, 1_000, 2_000, 5_000]

/**
 * RabbitMQ as the transport, through rabbitmq-client (it reconnects with backoff, re-declares the
 * topology and re-subscribes on its own, and confirms publishes).
 *
 * Outgoing: a delivery is already in its producer's journal; it is published persistent with publisher
 * confirms (an event once to the events exchange when it goes to every subscriber, otherwise straight to
 * each module's queue), and only once confirmed is it marked `forwarded`. A failed or unconfirmed publish
 * is tried again, with backoff, until it is confirmed: a crash in between sends it again at the next start,
 * and the receiver drops the duplicate by message id.
 * Incoming: each local module consumes its queue; a message is acknowledged only once its outcome
 * (handled, delayed or failed) is on disk here.
 */
export function createAmqpTransport(options: AmqpTransportOptions): Transport {
  const address = redact(options.url)
  const names = amqpNames(options.namespace)
  let host: TransportHost | undefined
  const consumers: Consumer[] = []
  /** Whether the connection was ever up: tells `reconnecting` from `connecting`. */
  let everConnected = false
  let lastError: string | undefined
  /** Deliveries handed over and not yet recorded as forwarded; a delivery is never published twice at once. */
  const relaying = new Set<Delivery>()
  let stopped = false
  let errorQueue: ReturnType<typeof browseBrokerErrorQueue> | undefined
  let link: BrokerLink | undefined
  const drainedWaiters: (() => void)[] = []

  function settle(states: readonly Delivery[]): void {
    for (const delivery of states) relaying.delete(delivery)
    if (relaying.size > 0) return
    host?.drained()
    for (const resolve of drainedWaiters.splice(0)) resolve()
  }

  /** Publishes a parked message to the queue `target` names (declaring it first where needed); a refusal is a TransportUnconfirmedError. */
  async function sendParked(target: () => Promise<string>, parked: ParkedMessage, what: string): Promise<void> {
    try {
      await sendTo(link!.publisher, await target(), parked.env, parked)
    } catch (error) {
      lastError = describe(error)
      throw new TransportUnconfirmedError(what, { cause: error })
    }
  }

  async function relay(group: Delivery[], attempt = 0): Promise<void> {
    if (stopped) return
    try {
      await publishGroup(link!, host!.topology, group)
      await host!.forwarded(group)
      settle(group)
    } catch (error) {
      lastError = describe(error)
      host!.onError(error, `sending ${group[0]!.env?.type ?? 'a message'} to the broker`)
      if (stopped) return
      // Kept in the journal and in `relaying` meanwhile: nothing is lost, and idle() waits for it.
      const delay = retryDelaysMs[Math.min(attempt, retryDelaysMs.length - 1)]!
      setTimeout(() => void relay(group, attempt + 1), delay).unref()
    }
  }

  return {
    kind: 'amqp',
    reachesOtherProcesses: true,
    holdsDeferred: true,
    get pending() {
      return relaying.size
    },
    async start(given) {
      host = given
      const noteError = (error: unknown, during: string) => {
        lastError = describe(error)
        given.onError(error, during)
      }
      link = await openLink(options, given, names, { connected: () => (everConnected = true), noteError })
      for (const module of given.localModules) consumers.push(consume(link, module, given.topology.modules.get(module)?.concurrency ?? 1))
      if (options.console) {
        errorQueue = browseBrokerErrorQueue({
          connection: link.connection,
          publisher: link.publisher,
          queue: names.error,
          queueOf: names.queueOf,
          undecodable: names.undecodable,
          archive: (message) => given.archive(message),
          onError: (error) => given.onError(error, `browsing ${names.error}`),
        })
      }
    },
    get errorQueue() {
      return errorQueue
    },
    async retryLater(module, env, failures, delayMs) {
      await sendParked(async () => link!.delays.of(module, delayMs), { module, env, failures }, `the delayed retry of ${env.type}`)
    },
    async park(module, failedEnv, failures) {
      await sendParked(async () => names.error, { module, env: failedEnv, failures }, `the failed ${failedEnv.type} for the error queue`)
    },
    deliver(states) {
      const groups = new Map<string, Delivery[]>()
      for (const delivery of states) {
        if (relaying.has(delivery)) continue
        relaying.add(delivery)
        const group = groups.get(delivery.id)
        if (group) group.push(delivery)
        else groups.set(delivery.id, [delivery])
      }
      for (const group of groups.values()) void relay(group)
    },
    status() {
      const state = stopped ? 'closed' : link?.connection.ready ? 'connected' : everConnected ? 'reconnecting' : 'connecting'
      return { kind: 'amqp', state, address, unconfirmed: relaying.size, lastError }
    },
    async queueLengths() {
      const connection = link?.connection
      if (!connection?.ready || !host) return undefined
      try {
        return await readQueueLengths(connection, host.topology.modules.keys(), names.queueOf)
      } catch (error) {
        lastError = describe(error)
        return undefined
      }
    },
    async stop() {
      const timeoutMs = options.stopTimeoutMs ?? 5_000
      errorQueue?.release()
      // Each step waits a bounded time: with the broker gone, closing channels would wait for it forever.
      await within(Promise.all([...consumers, ...(errorQueue ? [errorQueue.consumer] : [])].map((consumer) => consumer.close())), timeoutMs)
      if (relaying.size > 0) await within(new Promise<void>((resolve) => drainedWaiters.push(resolve)), timeoutMs)
      stopped = true
      await closeLink(link, relaying.size > 0, timeoutMs)
    },
  }
}

interface Declarations {
  queues: { queue: string; durable: boolean }[]
  exchanges: { exchange: string; type: string; durable: boolean }[]
  queueBindings: { queue: string; exchange: string; routingKey: string }[]
}

async function declare(connection: Connection, topology: Declarations): Promise<void> {
  for (const exchange of topology.exchanges) await connection.exchangeDeclare(exchange)
  for (const queue of topology.queues) await connection.queueDeclare(queue)
  for (const binding of topology.queueBindings) await connection.queueBind(binding)
}

/** Waits for `promise`, but no longer than `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

function redact(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    parsed.username = ''
    return parsed.toString()
  } catch {
    return 'amqp (unparsable address)'
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** What the transport's parts share once it has started: the connection, the confirming publisher, the names, the host. */
interface BrokerLink {
  connection: Connection
  publisher: Publisher
  names: ReturnType<typeof amqpNames>
  host: TransportHost
  delays: DelayQueues
  prefetchPerSlot: number
  /** Remembers the error for the transport's status, and tells the host. */
  noteError: (error: unknown, during: string) => void
}

/** The modules' TTL queues, each declared before its first use: a message for a missing queue is silently dropped. */
class DelayQueues {
  readonly #declared = new Set<string>()

  constructor(
    private readonly connection: Connection,
    private readonly names: ReturnType<typeof amqpNames>,
  ) {}

  /** The module's TTL queue for `delayMs`, dead-lettering into its queue. */
  async of(module: string, delayMs: number): Promise<string> {
    const queue = this.names.delayOf(module, delayMs)
    if (!this.#declared.has(queue)) {
      await this.connection.queueDeclare({ queue, durable: true, arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': this.names.queueOf(module) } })
      this.#declared.add(queue)
    }
    return queue
  }
}

/**
 * One message's deliveries, published: a deferred one to a TTL queue per whole second of delay (up to a
 * second late, never early, and the queues stay few); an event to every subscriber once, to the events
 * exchange; otherwise straight to each module's queue.
 */
async function publishGroup({ publisher, names, host, delays }: BrokerLink, topology: TransportTopology, group: Delivery[]): Promise<void> {
  const env = group[0]!.env
  if (!env) throw new Error(`delivery ${group[0]!.id} has no message to publish`)
  const at = group[0]!.at
  const now = host.now()
  if (at !== undefined && at > now) {
    const delayMs = Math.ceil((at - now) / 1_000) * 1_000
    await Promise.all(group.map(async (delivery) => sendTo(publisher, await delays.of(delivery.module, delayMs), env)))
    return
  }
  const subscribers = topology.subscribers.get(env.type) ?? []
  const toEverySubscriber = env.headers[Headers.Kind] === 'event' && env.headers[Headers.SagaName] === undefined && subscribers.length === group.length && group.every((delivery) => subscribers.includes(delivery.module))
  if (toEverySubscriber) {
    await publisher.send({ ...propertiesOf(env), exchange: names.events, routingKey: env.type }, env)
    return
  }
  await Promise.all(group.map((delivery) => sendTo(publisher, names.queueOf(delivery.module), env)))
}

/** The queues, exchange and bindings of the whole topology (every module's, those run elsewhere too). */
function declarations(topology: TransportTopology, names: ReturnType<typeof amqpNames>): Declarations {
  const modules = [...topology.modules.keys()]
  return {
    queues: [...modules.map((module) => ({ queue: names.queueOf(module), durable: true })), { queue: names.error, durable: true }, { queue: names.undecodable, durable: true }],
    exchanges: [{ exchange: names.events, type: 'direct', durable: true }],
    queueBindings: [...topology.subscribers].flatMap(([type, modules]) => modules.map((module) => ({ queue: names.queueOf(module), exchange: names.events, routingKey: type }))),
  }
}

/** A local module consuming its queue: each message acknowledged once its outcome is on disk here, or requeued. */
function consume({ connection, publisher, names, host, prefetchPerSlot, noteError }: BrokerLink, module: string, concurrency: number): Consumer {
  const prefetch = Math.max(1, concurrency * prefetchPerSlot)
  const consumer = connection.createConsumer(
    { queue: names.queueOf(module), queueOptions: { durable: true }, qos: { prefetchCount: prefetch }, concurrency: prefetch, requeue: true },
    async (message) => {
      // A delayed retry comes back wrapped with its attempts so far; anything else is a plain envelope.
      const wrapped = asParked(message.body)
      const env = wrapped?.env ?? asEnvelope(message.body)
      if (!env) {
        // Not a Mailroom message: parked where a person can see it, with the reason, never dropped.
        await sendUndecodable(publisher, names.undecodable, message.body, {
          'mailroom.undecodable.module': module,
          'mailroom.undecodable.reason': 'the body is not a Mailroom envelope (id, type, headers, body)',
        })
        return ConsumerStatus.ACK
      }
      const outcome = await host.receive(module, env, wrapped?.failures)
      return outcome === 'requeue' ? ConsumerStatus.REQUEUE : ConsumerStatus.ACK
    },
  )
  consumer.on('error', (error) => noteError(error, `consuming ${names.queueOf(module)}`))
  return consumer
}

/**
 * The connection (rabbitmq-client reconnects with backoff, re-declares and re-subscribes on its own) and its
 * confirming publisher. Waits (a while) for the broker so the first messages do not all start with a retry,
 * and declares the whole topology now: a console asks for queue lengths before anything was published.
 */
async function openLink(options: AmqpTransportOptions, host: TransportHost, names: ReturnType<typeof amqpNames>, events: { connected(): void; noteError: BrokerLink['noteError'] }): Promise<BrokerLink> {
  const connection = new Connection({ url: options.url, connectionName: options.connectionName ?? `mailroom ${host.localModules.join(',') || 'console'}`, retryLow: 100, retryHigh: 5_000 })
  connection.on('connection', () => events.connected())
  connection.on('error', (error) => events.noteError(error, 'the broker connection'))
  const topology = declarations(host.topology, names)
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 3, ...topology })
  try {
    await connection.onConnect(options.connectTimeoutMs ?? 10_000, true)
    await declare(connection, topology)
  } catch (error) {
    events.noteError(error, 'connecting to the broker (it keeps trying)')
  }
  return { connection, publisher, names, host, delays: new DelayQueues(connection, names), prefetchPerSlot: options.prefetchPerSlot ?? 4, noteError: events.noteError }
}

/** Closes the publisher and the connection, each within `timeoutMs`; with deliveries unconfirmed (or no broker), drops the connection: they stay in the journal and go out at the next start. */
async function closeLink(link: BrokerLink | undefined, unconfirmed: boolean, timeoutMs: number): Promise<void> {
  if (!link) return
  if (unconfirmed || !link.connection.ready) {
    link.connection.unsafeDestroy()
    return
  }
  await within(link.publisher.close(), timeoutMs)
  await within(link.connection.close(), timeoutMs)
}
