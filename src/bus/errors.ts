/**
 * Every error the bus throws, declared once. Codes are stable: a retired code is never reused.
 * `docs/errors.md` is generated from this catalogue (`npm run docs:errors`) and a test keeps the two equal.
 */
export const ErrorCodes = {
  MAILROOM_ERR_ROUTE_NOT_FOUND: 'A command was sent that has no route in createBus({ routes }).',
  MAILROOM_ERR_ROUTE_INVALID: 'The routes table names a module that does not exist or does not handle the command.',
  MAILROOM_ERR_ROUTE_NO_REPLY_ADDRESS: 'reply() was called for a message that did not come from a module.',
  MAILROOM_ERR_MESSAGE_UNKNOWN_TYPE: 'A message type is not known to the bus: no module handles or publishes it.',
  MAILROOM_ERR_MESSAGE_INVALID: 'A message body does not match its schema.',
  MAILROOM_ERR_MESSAGE_KIND_MISMATCH: 'A command was published, or an event was sent.',
  MAILROOM_ERR_MESSAGE_DUPLICATE_TYPE: 'Two different message definitions share one type name.',
  MAILROOM_ERR_MESSAGE_NO_HANDLER: 'A module received a message type it has no handler for.',
  MAILROOM_ERR_MODULE_INVALID_OPTION: 'A module or bus option has a wrong value.',
  MAILROOM_ERR_MODULE_NOT_FOUND: 'An admin call named a module the bus does not have.',
  MAILROOM_ERR_MODULE_DUPLICATE: 'Two modules share one name.',
  MAILROOM_ERR_MODULE_UNREACHABLE: 'createBus({ runHere }) leaves modules out that the embedded transport cannot reach: they would never run.',
  MAILROOM_ERR_BUS_NOT_STARTED: 'The bus was used before `await bus.start()` or after `bus.stop()`.',
  MAILROOM_ERR_BUS_ALREADY_STARTED: 'bus.start() was called twice.',
  MAILROOM_ERR_JOURNAL_CORRUPT: 'A journal record before the tail fails its checksum or framing.',
  MAILROOM_ERR_JOURNAL_LOCKED: 'Another process holds the data directory.',
  MAILROOM_ERR_JOURNAL_WRITE_FAILED: 'A journal append could not be written or synced to disk.',
  MAILROOM_ERR_TRANSPORT_UNCONFIRMED: 'The broker did not confirm a message (connection lost or refused); it is tried again, nothing is lost.',
  MAILROOM_ERR_HANDLER_UNRECOVERABLE: 'A handler marked its failure as unrecoverable; retries are skipped.',
  MAILROOM_ERR_WEB_INVALID_REQUEST: 'An HTTP request body, parameter or query failed its schema; the message names the field.',
  MAILROOM_ERR_WEB_NOT_FOUND: 'An HTTP request named a module, message, order or conversation that does not exist.',
  MAILROOM_ERR_WEB_CROSS_ORIGIN: 'A state-changing request came from another origin.',
  MAILROOM_ERR_WEB_UNSUPPORTED_MEDIA_TYPE: 'A JSON API request did not send application/json.',
  MAILROOM_ERR_WEB_CSRF: 'A form was posted without a valid CSRF token.',
  MAILROOM_ERR_WEB_CONFLICT: 'The request does not fit what the thing is now, e.g. cancelling an order whose window has passed.',
  MAILROOM_ERR_WEB_TOO_MANY_STREAMS: 'The live stream has as many clients as it takes (streamMaxClients); try again shortly.',
  MAILROOM_ERR_WEB_INTERNAL: 'The server failed; the details are in its log, not in the response.',
  MAILROOM_ERR_HANDLER_FAULT_INJECTED: 'A person switched on fault injection for the module (admin.setFault); retried like any failure.',
  MAILROOM_ERR_SAGA_DATA_INVALID: "A saga handler left the instance's data not matching the saga's schema; the message goes to the error queue and the data stays as it was.",
  MAILROOM_ERR_SAGA_CORRELATION_INVALID: "A saga's correlation function returned no usable id (not a non-empty string) for a message.",
  MAILROOM_ERR_DATA_INVALID: "A document (or its key) put into a module's table does not match the table; the message goes to the error queue and nothing is committed.",
  MAILROOM_ERR_DATA_UNDECLARED_TABLE: "A handler used a table its module does not list in defineModule({ tables }).",
  MAILROOM_ERR_DATA_NOT_HERE: 'bus.table() named a table of no module this process runs.',
  MAILROOM_ERR_DATA_CONFLICT: 'Another message changed the same document first; the handlers run again with the new data.',
} as const

export type MailroomErrorCode = keyof typeof ErrorCodes

export class MailroomError extends Error {
  constructor(
    readonly code: MailroomErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

export class RouteNotFoundError extends MailroomError {
  constructor(readonly messageType: string) {
    super(
      'MAILROOM_ERR_ROUTE_NOT_FOUND',
      `No route for command '${messageType}'. Add it to createBus({ routes: { ${messageType}: '<module>' } }).`,
    )
  }
}

export class InvalidRouteError extends MailroomError {
  constructor(readonly messageType: string, reason: string) {
    super('MAILROOM_ERR_ROUTE_INVALID', `Route for '${messageType}' is invalid: ${reason}.`)
  }
}

export class NoReplyAddressError extends MailroomError {
  constructor(readonly messageType: string) {
    super(
      'MAILROOM_ERR_ROUTE_NO_REPLY_ADDRESS',
      `Cannot reply with '${messageType}': the incoming message was not sent by a module, so it has no reply address. Use context.send() or context.publish() instead.`,
    )
  }
}

export class UnknownMessageTypeError extends MailroomError {
  constructor(readonly messageType: string) {
    super(
      'MAILROOM_ERR_MESSAGE_UNKNOWN_TYPE',
      `Message type '${messageType}' is not known to this bus. Subscribe a handler to it, or list it in defineModule({ publishes: [${messageType}] }).`,
    )
  }
}

export interface FieldProblem {
  /** JSON pointer of the offending field, e.g. `/items/0`; `` (empty) is the body itself. */
  path: string
  message: string
}

export class InvalidMessageError extends MailroomError {
  constructor(
    readonly messageType: string,
    readonly problems: readonly FieldProblem[],
  ) {
    const first = problems[0]
    const where = first ? `field '${first.path || '(body)'}' ${first.message}` : 'unknown problem'
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''
    super('MAILROOM_ERR_MESSAGE_INVALID', `Invalid '${messageType}' body: ${where}${more}.`)
  }
}

export class MessageKindMismatchError extends MailroomError {
  constructor(readonly messageType: string, readonly expected: 'command' | 'event') {
    super(
      'MAILROOM_ERR_MESSAGE_KIND_MISMATCH',
      expected === 'command'
        ? `'${messageType}' is an event: publish it with publish(), commands are sent with send().`
        : `'${messageType}' is a command: send it with send(), events are published with publish().`,
    )
  }
}

export class DuplicateMessageTypeError extends MailroomError {
  constructor(readonly messageType: string) {
    super(
      'MAILROOM_ERR_MESSAGE_DUPLICATE_TYPE',
      `Two different definitions are named '${messageType}'. Define each message once (in its module's messages.ts) and import it.`,
    )
  }
}

export class NoHandlerError extends MailroomError {
  constructor(readonly messageType: string, readonly moduleName: string) {
    super(
      'MAILROOM_ERR_MESSAGE_NO_HANDLER',
      `Module '${moduleName}' received '${messageType}' but has no handler for it. Add one to defineModule({ handlers }) or fix the route.`,
    )
  }
}

export class InvalidOptionError extends MailroomError {
  constructor(readonly option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_MODULE_INVALID_OPTION', `Expected \`${option}\` to be ${expected}, got ${describeValue(actual)}.`)
  }
}

export class ModuleNotFoundError extends MailroomError {
  constructor(readonly moduleName: string, known: readonly string[]) {
    super('MAILROOM_ERR_MODULE_NOT_FOUND', `No module named '${moduleName}'. Known modules: ${known.join(', ') || '(none)'}.`)
  }
}

export class DuplicateModuleError extends MailroomError {
  constructor(readonly moduleName: string) {
    super('MAILROOM_ERR_MODULE_DUPLICATE', `Two modules are named '${moduleName}'. Module names must be unique.`)
  }
}

export class BusNotStartedError extends MailroomError {
  constructor(action: string) {
    super('MAILROOM_ERR_BUS_NOT_STARTED', `Cannot ${action}: the bus is not running. Call \`await bus.start()\` first.`)
  }
}

export class BusAlreadyStartedError extends MailroomError {
  constructor() {
    super('MAILROOM_ERR_BUS_ALREADY_STARTED', 'bus.start() was called on a bus that is already started.')
  }
}

export class JournalCorruptError extends MailroomError {
  constructor(readonly file: string, readonly offset: number, reason: string, found: 'at start' | 'reading a queued message back' | 'reading a document back' = 'at start') {
    super(
      'MAILROOM_ERR_JOURNAL_CORRUPT',
      found === 'at start'
        ? `Journal '${file}' is corrupt at byte offset ${offset}: ${reason}. Mailroom refuses to start rather than drop data; move the file aside or repair it by hand.`
        : found === 'reading a document back'
          ? `Journal '${file}' is corrupt at byte offset ${offset}: ${reason}. The document cannot be read (the read fails, and a handler reading it is retried); nothing is dropped. Repair the file by hand.`
          : `Journal '${file}' is corrupt at byte offset ${offset}: ${reason}. The module's queue waits at that message and the read is tried again; nothing is dropped. Repair the file by hand.`,
    )
  }
}

export class DataDirLockedError extends MailroomError {
  constructor(readonly lockFile: string, readonly ownerPid: number) {
    super(
      'MAILROOM_ERR_JOURNAL_LOCKED',
      `Data directory is in use by process ${ownerPid} (lock file '${lockFile}'). Stop that process, or give this one another MAILROOM_DATA_DIR.`,
    )
  }
}

export class JournalWriteError extends MailroomError {
  constructor(readonly file: string, options?: ErrorOptions) {
    super('MAILROOM_ERR_JOURNAL_WRITE_FAILED', `Could not write journal '${file}'; the message was not accepted.`, options)
  }
}

export class BrokerUnavailableError extends MailroomError {
  constructor(action: string, options?: ErrorOptions) {
    super('MAILROOM_ERR_TRANSPORT_UNCONFIRMED', `The broker did not confirm ${action}; the message stays where it was and is tried again.`, options)
  }
}

/**
 * Throw this from a handler when retrying cannot help (bad data, a rule that will never pass):
 * the message goes straight to the error queue.
 */
export class UnrecoverableError extends MailroomError {
  constructor(message: string, options?: ErrorOptions) {
    super('MAILROOM_ERR_HANDLER_UNRECOVERABLE', message, options)
  }
}

/** What a module's handlers throw while fault injection is on: an ordinary, retryable failure. */
export class InjectedFaultError extends MailroomError {
  constructor(readonly moduleName: string) {
    super('MAILROOM_ERR_HANDLER_FAULT_INJECTED', `Fault injected in ${moduleName}: switch it off in the console (or admin.setFault('${moduleName}', false)) and retry.`)
  }
}

export class SagaDataInvalidError extends MailroomError {
  constructor(
    readonly saga: string,
    readonly correlationId: string,
    readonly problem: string,
  ) {
    super('MAILROOM_ERR_SAGA_DATA_INVALID', `Saga ${saga} (${correlationId}): its data no longer matches its schema at ${problem}. Nothing was committed.`)
  }
}

export class SagaCorrelationError extends MailroomError {
  constructor(
    readonly saga: string,
    readonly messageType: string,
    value: unknown,
  ) {
    super('MAILROOM_ERR_SAGA_CORRELATION_INVALID', `Saga ${saga} found no correlation id in ${messageType}: expected a non-empty string, got ${describeValue(value)}.`)
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (value === undefined) return 'undefined'
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

export class DataInvalidError extends MailroomError {
  constructor(
    readonly table: string,
    readonly key: string,
    readonly problem: string,
  ) {
    super('MAILROOM_ERR_DATA_INVALID', `Table ${table}, key '${key}': ${problem}. Nothing was committed.`)
  }
}

export class UndeclaredTableError extends MailroomError {
  constructor(readonly table: string, readonly moduleName: string) {
    super('MAILROOM_ERR_DATA_UNDECLARED_TABLE', `Module '${moduleName}' has no table '${table}'. List it in defineModule({ name: '${moduleName}', tables: [...] }).`)
  }
}

export class TableNotHereError extends MailroomError {
  constructor(readonly table: string, known: readonly string[]) {
    super('MAILROOM_ERR_DATA_NOT_HERE', `No module run by this process has the table '${table}'. Tables here: ${known.join(', ') || '(none)'}.`)
  }
}

export class DataConflictError extends MailroomError {
  constructor(readonly table: string, readonly key: string) {
    super('MAILROOM_ERR_DATA_CONFLICT', `Table ${table}, key '${key}' was changed by another message while this one was handled; run again with the new data.`)
  }
}

export class ModulesUnreachableError extends MailroomError {
  constructor(readonly moduleNames: readonly string[]) {
    super(
      'MAILROOM_ERR_MODULE_UNREACHABLE',
      `Module${moduleNames.length === 1 ? '' : 's'} ${moduleNames.join(', ')} would never run: runHere leaves ${moduleNames.length === 1 ? 'it' : 'them'} out, and the embedded transport reaches no other process. Run ${moduleNames.length === 1 ? 'it' : 'them'} here too (add to runHere, or drop runHere), or use a broker transport (createAmqpTransport; npm start: MAILROOM_TRANSPORT or --transport).`,
    )
  }
}
