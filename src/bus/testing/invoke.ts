import type { Handler } from '../endpoint/handle.js'
import type { HandlerContext } from '../endpoint/handler-context.js'
import type { BodyOf, MessageDefinition } from '../messages/define-message.js'
import { createRecordingContext } from './recording-context.js'

/**
 * Calls a handler the way the bus would: the body is validated against the message's schema first
 * (an invalid body throws InvalidMessageError, as it would send the message to the error queue).
 */
export async function invoke<D extends MessageDefinition>(
  handler: Handler<D>,
  body: BodyOf<D>,
  context: HandlerContext = createRecordingContext(),
): Promise<HandlerContext> {
  const validated = handler.message.validate(body)
  await handler.fn(validated as BodyOf<D>, context)
  return context
}
