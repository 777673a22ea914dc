import type { HandlerContext, Logger } from '../endpoint/handler-context.js'
import { InvalidTimeoutRequestError } from '../errors.js'
import { isMessageDefinition } from '../messages/define-message.js'
import type { MessageContext } from '../pipeline/message-context.js'
import type { SagaDefinition } from './define-saga.js'
import type { SagaContext } from './saga-context.js'

/** The bus's saga context: the message's own context, plus one saga instance's data and lifecycle. */
export class SagaAttemptContext<Data> implements SagaContext<Data> {
  completed = false

  constructor(
    private readonly base: MessageContext,
    readonly saga: SagaDefinition<Data>,
    readonly correlationId: string,
    /** The id of the message that started this instance. */
    readonly instance: string,
    public data: Data,
  ) {}

  get messageId(): string {
    return this.base.messageId
  }

  /** See MessageContext.transactionSession: a saga's handler runs its SQL in the same transaction. */
  transactionSession(): Promise<unknown> | undefined {
    return this.base.transactionSession()
  }

  get headers(): Readonly<Record<string, string>> {
    return this.base.headers
  }

  get log(): Logger {
    return this.base.log
  }

  get send(): HandlerContext['send'] {
    return this.base.send
  }

  get publish(): HandlerContext['publish'] {
    return this.base.publish
  }

  get reply(): HandlerContext['reply'] {
    return this.base.reply
  }

  get defer(): HandlerContext['defer'] {
    return this.base.defer
  }

  get table(): HandlerContext['table'] {
    return this.base.table
  }

  get requestTimeout(): SagaContext<Data>['requestTimeout'] {
    return (delayMs, message, body) => {
      if (!this.saga.timeouts.some((handler) => handler.message === message)) {
        throw new InvalidTimeoutRequestError('requestTimeout(message)', `one of saga ${this.saga.name}'s timeouts`, isMessageDefinition(message) ? message.type : message)
      }
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw new InvalidTimeoutRequestError('requestTimeout(delayMs)', 'a number of milliseconds ≥ 0', delayMs)
      this.base.holdOutgoing('timeout', message, body, undefined, delayMs, { name: this.saga.name, id: this.correlationId, instance: this.instance })
      return Promise.resolve()
    }
  }

  get markAsComplete(): SagaContext<Data>['markAsComplete'] {
    return () => {
      this.completed = true
    }
  }
}
