/** Header names, namespaced like NServiceBus's `NServiceBus.*`, so they never clash with user headers. */
export const Headers = {
  MessageId: 'mailroom.message-id',
  Type: 'mailroom.type',
  Kind: 'mailroom.kind',
  CorrelationId: 'mailroom.correlation-id',
  ConversationId: 'mailroom.conversation-id',
  CausationId: 'mailroom.causation-id',
  OriginModule: 'mailroom.origin',
  ReplyTo: 'mailroom.reply-to',
  SentAt: 'mailroom.sent-at',
  DeliverAt: 'mailroom.deliver-at',
  /** On a saga timeout: the saga that asked for it, and its instance. */
  SagaName: 'mailroom.saga',
  SagaId: 'mailroom.saga-id',
  SagaInstance: 'mailroom.saga-instance',
  DelayedRetries: 'mailroom.delayed-retries',
  Retries: 'mailroom.retries',
  ExceptionType: 'mailroom.exception.type',
  ExceptionMessage: 'mailroom.exception.message',
  ExceptionStack: 'mailroom.exception.stack',
  FailedModule: 'mailroom.failed.module',
  FailedAt: 'mailroom.failed.at',
} as const

/** The origin of messages sent from outside any handler (an HTTP route, a script). */
export const OutsideOrigin = 'outside'
