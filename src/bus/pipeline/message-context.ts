import type { DocumentOf, TableDefinition } from '../data/define-table.js'
import type { ModuleTables, Reservation } from '../data/module-tables.js'
import { DataAttempt, type Table } from '../data/table.js'
import type { HandlerContext, Logger } from '../endpoint/handler-context.js'
import { UndeclaredTableError } from '../errors.js'
import type { Envelope } from '../messages/envelope.js'
import type { OutgoingEntry } from '../delivery/delivery.js'
import type { AttemptTransaction } from '../persistence/persistence.js'
import type { Topology } from '../routing/topology.js'
import { endProducerSpan, startProducerSpan, type Processing } from '../telemetry/tracing.js'
import { prepareOutgoing, type OutgoingRequest, type SendMode } from './outgoing.js'

/** What every context of one module shares. */
export interface ContextScope {
  topology: Topology
  module: string
  now: () => number
  /** A logger whose lines name the message being handled (and its trace, when one is recorded). */
  loggerFor: (env: Envelope, processing: Processing | undefined) => Logger
  /** The module's tables; undefined when it declares none. */
  data: ModuleTables | undefined
}

/**
 * The context a handler gets while the bus handles a delivery. A class, not an object of closures: one
 * is made per delivery, and eight closures each were a visible share of a profile. The methods are
 * getters returning functions, so a handler may still destructure `{ send, publish }`.
 */
export class MessageContext implements HandlerContext {
  #log: Logger | undefined
  #data: DataAttempt | undefined

  constructor(
    private readonly scope: ContextScope,
    private readonly incoming: Envelope,
    /** Receives every outgoing message; the pipeline commits them once all handlers succeeded. */
    private readonly outgoing: OutgoingEntry[],
    /** With a database persistence: the attempt's transaction, which the tables and the handlers' SQL join. */
    private readonly transaction?: AttemptTransaction,
    /** The delivery's consumer span, when an OpenTelemetry SDK records one: what the handlers send are its children. */
    private readonly processing?: Processing,
  ) {}

  /** The database session of the attempt's transaction, opened if it was not yet (mailroom/postgres reads it: transactionClient); undefined without one. */
  transactionSession(): Promise<unknown> | undefined {
    return this.transaction?.session()
  }

  get messageId(): string {
    return this.incoming.id
  }

  get headers(): Readonly<Record<string, string>> {
    return this.incoming.headers
  }

  get log(): Logger {
    return (this.#log ??= this.scope.loggerFor(this.incoming, this.processing))
  }

  get send(): HandlerContext['send'] {
    return (definition, body, options) => this.#hold('send', definition, body, options)
  }

  get publish(): HandlerContext['publish'] {
    return (definition, body, options) => this.#hold('publish', definition, body, options)
  }

  get reply(): HandlerContext['reply'] {
    return (definition, body, options) => this.#hold('reply', definition, body, options)
  }

  get defer(): HandlerContext['defer'] {
    return (delayMs, definition, body, options) => this.#hold('defer', definition, body, options, delayMs)
  }

  get table(): HandlerContext['table'] {
    return <T extends TableDefinition>(definition: T): Table<DocumentOf<T>> => {
      if (this.transaction) return this.transaction.table(definition)
      const data = this.scope.data
      if (!data) throw new UndeclaredTableError(definition?.name ?? String(definition), this.scope.module)
      return (this.#data ??= new DataAttempt(data)).table(definition)
    }
  }

  /** Checks what the attempt read and claims what it wrote (see ModuleTables.reserve); throws DataConflictError. */
  reserveData(): Reservation | undefined {
    return this.#data && this.scope.data ? this.scope.data.reserve(this.#data) : undefined
  }

  /** After a conflict: waits until every key the attempt touched is no longer being written. */
  async dataSettled(): Promise<void> {
    const data = this.scope.data
    if (!this.#data || !data) return
    for (const [state, keys] of this.#data.touched) for (const key of keys.keys()) await data.settled(state, key)
  }

  #hold(mode: SendMode, definition: unknown, body: unknown, options: unknown, delayMs?: number): Promise<void> {
    this.holdOutgoing(mode, definition, body, options, delayMs)
    return Promise.resolve()
  }

  /** For the bus's own contexts (a saga's timeouts): stamps and holds one outgoing message. */
  holdOutgoing(mode: SendMode, definition: unknown, body: unknown, options: unknown, delayMs?: number, saga?: { name: string; id: string; instance: string }): void {
    const { topology, module, now } = this.scope
    // One object, fields added in place: object spread of a fresh object costs ~1–3 µs here (see signals.ts).
    const request: OutgoingRequest = { mode, definition, body, options: options as never, origin: module, incoming: this.incoming, now: now() }
    if (delayMs !== undefined) request.delayMs = delayMs
    if (saga) request.saga = saga
    const entry = prepareOutgoing(topology, request)
    // The message is only held here; its span says so at once (it leaves with the handlers' commit).
    endProducerSpan(startProducerSpan(entry, mode, this.processing?.context))
    this.outgoing.push(entry)
  }
}
