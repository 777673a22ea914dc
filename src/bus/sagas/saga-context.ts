import type { HandlerContext } from '../endpoint/handler-context.js'
import type { BodyOf, MessageDefinition } from '../messages/define-message.js'

/** What a saga's handler gets: the handler context, plus its instance's data and lifecycle. */
export interface SagaContext<Data> extends HandlerContext {
  /** The instance's state: change it in place; it is committed with the message once the handler succeeds. */
  data: Data
  readonly correlationId: string
  /**
   * Delivers `message` to this saga instance after `delayMs`, durable across restarts; dropped if the
   * instance has completed by then.
   */
  requestTimeout<D extends MessageDefinition>(delayMs: number, message: D, body: BodyOf<D>): Promise<void>
  /** Ends the instance: its data is deleted when this message commits, and its later timeouts are dropped. */
  markAsComplete(): void
}
