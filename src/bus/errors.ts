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
  MAILROOM_ERR_MESSAGE_INVALID_DEFINITION: 'defineCommand or defineEvent got a type name it does not take, or something not made by them was used as a message.',
  MAILROOM_ERR_MESSAGE_INVALID_SEND_OPTION: 'send, publish or defer got an option it does not take: a negative delay, a header that is not a string or uses the reserved `mailroom.` prefix.',
  MAILROOM_ERR_BUS_INVALID_OPTION: 'A createBus option has a wrong value; the message names it.',
  MAILROOM_ERR_MODULE_INVALID_OPTION: 'A defineModule option has a wrong value; the message names it.',
  MAILROOM_ERR_MODULE_NOT_FOUND: 'An admin call named a module the bus does not have.',
  MAILROOM_ERR_MODULE_DUPLICATE: 'Two modules share one name.',
  MAILROOM_ERR_MODULE_UNREACHABLE: 'createBus({ runHere }) leaves modules out that the embedded transport cannot reach: they would never run.',
  MAILROOM_ERR_BUS_NOT_STARTED: 'The bus was used before `await bus.start()` or after `bus.stop()`.',
  MAILROOM_ERR_BUS_ALREADY_STARTED: 'bus.start() was called twice.',
  MAILROOM_ERR_JOURNAL_CORRUPT: 'A journal record before the tail fails its checksum or framing.',
  MAILROOM_ERR_JOURNAL_LOCKED: 'Another process holds the data directory.',
  MAILROOM_ERR_JOURNAL_WRITE_FAILED: 'A journal append could not be written or synced to disk.',
  MAILROOM_ERR_TRANSPORT_UNCONFIRMED: 'The broker did not confirm a message (connection lost or refused); it is tried again, nothing is lost.',
  MAILROOM_ERR_RECOVERABILITY_INVALID_OPTION: 'A recoverability option (immediate retries, delayed retries and their base delay) has a wrong value.',
  MAILROOM_ERR_HANDLER_INVALID_BEHAVIOR: 'defineBehavior got an option it does not take, or a behaviors list holds something not made by defineBehavior.',
  MAILROOM_ERR_HANDLER_BEHAVIOR_NEXT_TWICE: "A behavior called next() twice in one attempt: the handlers would run twice; the attempt fails.",
  MAILROOM_ERR_HANDLER_UNRECOVERABLE: 'A handler marked its failure as unrecoverable; retries are skipped.',
  MAILROOM_ERR_HANDLER_FAULT_INJECTED: 'A person switched on fault injection for the module (admin.setFault); retried like any failure.',
  MAILROOM_ERR_SAGA_INVALID_DEFINITION: 'A defineSaga option has a wrong value; the message names it.',
  MAILROOM_ERR_SAGA_INVALID_TIMEOUT: "requestTimeout got a delay that is not a finite number ≥ 0, or a message that is not one of the saga's timeouts.",
  MAILROOM_ERR_SAGA_DATA_INVALID: "A saga handler left the instance's data not matching the saga's schema; the message goes to the error queue and the data stays as it was.",
  MAILROOM_ERR_SAGA_CORRELATION_INVALID: "A saga's correlation function returned no usable id (not a non-empty string) for a message.",
  MAILROOM_ERR_DATA_INVALID_DEFINITION: 'defineTable got a name it does not take.',
  MAILROOM_ERR_DATA_INVALID_LIST_OPTION: 'A table list() got a limit, order or cursor it does not take.',
  MAILROOM_ERR_DATA_INVALID: "A document (or its key) put into a module's table does not match the table; the message goes to the error queue and nothing is committed.",
  MAILROOM_ERR_DATA_UNDECLARED_TABLE: "A handler used a table its module does not list in defineModule({ tables }).",
  MAILROOM_ERR_DATA_NOT_HERE: 'bus.table() named a table of no module this process runs.',
  MAILROOM_ERR_DATA_CONFLICT: 'Another message changed the same document first; the handlers run again with the new data.',
  MAILROOM_ERR_PERSISTENCE_SCHEMA_TOO_NEW: 'The database holds a schema newer than this Mailroom knows (another instance runs a newer version): start a newer Mailroom.',
  MAILROOM_ERR_PERSISTENCE_UNAVAILABLE: 'The database of the persistence could not be reached (or lost the connection mid-transaction); nothing of the attempt was committed and the message is tried again.',
  MAILROOM_ERR_PERSISTENCE_OUTCOME_UNKNOWN: 'The database went away while sends from outside handlers were being committed and did not answer again in time to be asked whether they were: they may have been committed (and are then delivered) or not.',
  MAILROOM_ERR_PERSISTENCE_NO_TRANSACTION: "transactionClient(context) was called where no database transaction exists: the bus keeps its data in journal files (no PostgreSQL persistence), or the context is a test kit's.",
  MAILROOM_ERR_PERSISTENCE_TRANSACTION_UNSUPPORTED: "send or publish got `{ transaction }` on a bus whose persistence has no transactions to join (journal files).",
  MAILROOM_ERR_ADMIN_FAULTS_NOT_INSTALLED: 'admin.setFault or setFaultRate was called on a bus created without the faultInjection() behavior.',
  MAILROOM_ERR_ADMIN_INVALID_ARGUMENT: 'An admin call got an argument it does not take, such as a fault rate outside 0..1.',
  MAILROOM_ERR_TESTING_INVALID_STEP: "A test-kit step names a message the saga under test does not handle or correlate, or a timeout it does not have.",
} as const

export type MailroomErrorCode = keyof typeof ErrorCodes

/** Every error Mailroom throws; `code` is stable. The console and the shop add codes of their own (Code). */
export class MailroomError<Code extends string = MailroomErrorCode> extends Error {
  constructor(
    readonly code: Code,
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

/**
 * An option or argument with a wrong value, naming it and what it got. Each cause is a subclass with a
 * code of its own; `instanceof InvalidOptionError` catches them all.
 */
export abstract class InvalidOptionError extends MailroomError {
  constructor(code: MailroomErrorCode, readonly option: string, expected: string, actual: unknown) {
    super(code, `Expected \`${option}\` to be ${expected}, got ${describeValue(actual)}.`)
  }
}

/** A createBus option. */
export class InvalidBusOptionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_BUS_INVALID_OPTION', option, expected, actual)
  }
}

/** A defineModule option. */
export class InvalidModuleOptionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_MODULE_INVALID_OPTION', option, expected, actual)
  }
}

/** A message definition, or what was passed as one. */
export class InvalidMessageDefinitionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_MESSAGE_INVALID_DEFINITION', option, expected, actual)
  }
}

/** An option of send, publish or defer. */
export class InvalidSendOptionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_MESSAGE_INVALID_SEND_OPTION', option, expected, actual)
  }
}

/** A defineSaga option. */
export class InvalidSagaDefinitionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_SAGA_INVALID_DEFINITION', option, expected, actual)
  }
}

/** An argument of a saga's requestTimeout. */
export class InvalidTimeoutRequestError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_SAGA_INVALID_TIMEOUT', option, expected, actual)
  }
}

/** A defineTable argument. */
export class InvalidTableDefinitionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_DATA_INVALID_DEFINITION', option, expected, actual)
  }
}

/** An option of a table's list(). */
export class InvalidListOptionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_DATA_INVALID_LIST_OPTION', option, expected, actual)
  }
}

/** A recoverability option, of the bus or of a module. */
export class InvalidRecoverabilityOptionError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_RECOVERABILITY_INVALID_OPTION', option, expected, actual)
  }
}

/** An argument of an admin call. */
export class InvalidAdminArgumentError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_ADMIN_INVALID_ARGUMENT', option, expected, actual)
  }
}

/** A behavior's definition, or a behaviors list. */
export class InvalidBehaviorError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_HANDLER_INVALID_BEHAVIOR', option, expected, actual)
  }
}

/** A behavior ran the handlers twice in one attempt. */
export class BehaviorNextTwiceError extends MailroomError {
  constructor(readonly behavior: string) {
    super('MAILROOM_ERR_HANDLER_BEHAVIOR_NEXT_TWICE', `Behavior ${behavior} called next() twice: the handlers run once an attempt. The attempt failed.`)
  }
}

/** A module's schema in PostgreSQL is at a version this Mailroom does not know. */
export class SchemaTooNewError extends MailroomError {
  /** `module`: the module whose schema it is, or (with `what`) the schema's own name, `what` saying what it holds. */
  constructor(readonly module: string, readonly found: number, readonly known: number, what = `module ${module}`) {
    super('MAILROOM_ERR_PERSISTENCE_SCHEMA_TOO_NEW', `The schema of ${what} is at version ${found}, newer than this Mailroom knows (${known}): start a newer Mailroom.`)
  }
}

export class PersistenceUnavailableError extends MailroomError {
  constructor(readonly address: string, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super('MAILROOM_ERR_PERSISTENCE_UNAVAILABLE', `Cannot reach the database at ${address}${cause}. Nothing was committed; the message is tried again.`, options)
  }
}

/**
 * Sends from outside handlers whose commit's answer the connection lost, with the database not back within
 * `waitedMs` to say whether it committed. Unlike PersistenceUnavailableError, they may have gone through.
 */
export class SendOutcomeUnknownError extends MailroomError {
  constructor(readonly address: string, readonly messageIds: readonly string[], readonly waitedMs: number, options?: ErrorOptions) {
    const what = messageIds.length === 1 ? `message ${messageIds[0]}` : `${messageIds.length} messages (${messageIds[0]}, …)`
    super(
      'MAILROOM_ERR_PERSISTENCE_OUTCOME_UNKNOWN',
      `The database at ${address} went away while ${what} sent from outside handlers was being committed, and did not answer again within ${waitedMs} ms: it may have been committed (it is then delivered) or not. Look before sending it again.`,
      options,
    )
  }
}

export class NoTransactionError extends MailroomError {
  constructor() {
    super('MAILROOM_ERR_PERSISTENCE_NO_TRANSACTION', 'This handler runs without a database transaction: create the bus with a PostgreSQL persistence (createBus({ persistence: postgresPersistence(…) }), from mailroom/postgres) to run SQL in it.')
  }
}

export class TransactionUnsupportedError extends MailroomError {
  constructor() {
    super('MAILROOM_ERR_PERSISTENCE_TRANSACTION_UNSUPPORTED', "send/publish got { transaction }, but this bus keeps its messages in journal files: there is no database transaction to join. Use a PostgreSQL persistence (mailroom/postgres).")
  }
}

/** admin.setFault on a bus without the fault-injection behavior. */
export class FaultInjectionNotInstalledError extends MailroomError {
  constructor() {
    super('MAILROOM_ERR_ADMIN_FAULTS_NOT_INSTALLED', 'Fault injection is not installed: create the bus with createBus({ behaviors: [faultInjection()] }).')
  }
}

/** A step of a test-kit scenario. */
export class InvalidTestStepError extends InvalidOptionError {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_TESTING_INVALID_STEP', option, expected, actual)
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

export class TransportUnconfirmedError extends MailroomError {
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
