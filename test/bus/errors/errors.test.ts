import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as errors from '../../../src/bus/errors.js'
import { renderErrorsDoc } from '../../../scripts/errors-table.js'
import * as webErrors from '../../../src/web/errors.js'
import * as shopErrors from '../../../src/shop-errors.js'

/** Every concrete error class: the bus's, the console's and the shop's. */
const errorClasses = [...Object.values(errors as Record<string, unknown>), ...Object.values(webErrors as Record<string, unknown>), ...Object.values(shopErrors as Record<string, unknown>)].filter(
  (value): value is new (...args: never[]) => errors.MailroomError<string> =>
    typeof value === 'function' && value.prototype instanceof errors.MailroomError && value !== webErrors.WebError && value !== errors.InvalidOptionError,
)
const allCodes = [...Object.keys(errors.ErrorCodes), ...Object.keys(webErrors.WebErrorCodes), ...Object.keys(shopErrors.ShopErrorCodes)]

describe('the error catalogue', () => {
  it('names every code MAILROOM_ERR_<AREA>_<WHAT> with a known area', () => {
    for (const code of Object.keys(errors.ErrorCodes)) {
      expect(code).toMatch(/^MAILROOM_ERR_(ROUTE|MESSAGE|JOURNAL|MODULE|SAGA|DATA|TRANSPORT|BUS|HANDLER|RECOVERABILITY|ADMIN|TESTING|PERSISTENCE)_[A-Z_]+$/)
    }
    // The console's and the shop's codes are theirs: not in the library's catalogue.
    for (const code of Object.keys(webErrors.WebErrorCodes)) expect(code).toMatch(/^MAILROOM_ERR_WEB_[A-Z_]+$/)
    for (const code of Object.keys(shopErrors.ShopErrorCodes)) expect(code).toMatch(/^MAILROOM_ERR_SHOP_[A-Z_]+$/)
  })

  it('has a class for every code, and every class sets its own name and a catalogued code', () => {
    const samples: errors.MailroomError<string>[] = [
      new errors.RouteNotFoundError('PlaceOrder'),
      new errors.InvalidRouteError('PlaceOrder', 'why'),
      new errors.NoReplyAddressError('X'),
      new errors.UnknownMessageTypeError('X'),
      new errors.InvalidMessageError('X', [{ path: '/a', message: 'must be string' }]),
      new errors.MessageKindMismatchError('X', 'event'),
      new errors.DuplicateMessageTypeError('X'),
      new errors.NoHandlerError('X', 'sales'),
      new errors.InvalidBusOptionError('queuedInMemory', 'an integer ≥ 1', 0),
      new errors.InvalidModuleOptionError('concurrency', 'an integer ≥ 1', 0),
      new errors.InvalidMessageDefinitionError('type', 'a name', ''),
      new errors.InvalidSendOptionError('delayMs', 'a number ≥ 0', -1),
      new errors.InvalidSagaDefinitionError('saga.name', 'a name', ''),
      new errors.InvalidTimeoutRequestError('requestTimeout(delayMs)', 'a number ≥ 0', -1),
      new errors.InvalidTableDefinitionError('defineTable(name)', 'a name', ''),
      new errors.InvalidListOptionError('list({ limit })', '1..1000', 0),
      new errors.InvalidRecoverabilityOptionError('recoverability.immediateRetries', 'an integer ≥ 0', -1),
      new errors.InvalidAdminArgumentError('rate', 'a number from 0 to 1', 2),
      new errors.InvalidTestStepError('message', 'a message saga s handles', 'X'),
      new errors.InvalidBehaviorError('name', 'a non-empty string', ''),
      new errors.BehaviorNextTwiceError('timing'),
      new errors.FaultInjectionNotInstalledError(),
      new errors.SchemaTooNewError('billing', 2, 1),
      new errors.PersistenceUnavailableError('127.0.0.1:5432', { cause: new Error('connect ECONNREFUSED') }),
      new errors.SendOutcomeUnknownError('127.0.0.1:5432', ['m-1'], 5_000),
      new errors.NoTransactionError(),
      new errors.TransactionUnsupportedError(),
      new errors.ModuleNotFoundError('x', ['sales']),
      new errors.DuplicateModuleError('x'),
      new errors.ModulesUnreachableError(['email']),
      new errors.BusNotStartedError('send'),
      new errors.BusAlreadyStartedError(),
      new errors.JournalCorruptError('/f', 10, 'checksum mismatch'),
      new errors.DataDirLockedError('/lock', 1),
      new errors.JournalWriteError('/f'),
      new errors.TransportUnconfirmedError('the message'),
      new errors.UnrecoverableError('nope'),
      new errors.InjectedFaultError('sales'),
      new errors.SagaDataInvalidError('shipping-policy', 'o-1', '/placed: Expected boolean'),
      new errors.SagaCorrelationError('shipping-policy', 'OrderPlaced', undefined),
      new errors.DataInvalidError('orders', 'o-1', "field '/items' must be array"),
      new errors.UndeclaredTableError('orders', 'billing'),
      new errors.TableNotHereError('orders', []),
      new errors.DataConflictError('orders', 'o-1'),
      new webErrors.InvalidRequestError('body/count must be <= 1000'),
      new webErrors.NotFoundError('module', 'x'),
      new webErrors.CrossOriginError('https://evil.example'),
      new webErrors.UnsupportedMediaTypeError('text/plain'),
      new webErrors.CsrfError(),
      new webErrors.ConflictError('no'),
      new webErrors.TooManyStreamsError(100),
      new webErrors.InternalServerError(),
      new webErrors.ReadOnlyError(),
      new webErrors.NotAuthenticatedError(),
      new webErrors.ConsoleOptionError('bus', 'a bus made with createBus', undefined),
      new shopErrors.ShopModuleInvalidError('x'),
    ]
    expect(samples.map((error) => error.constructor)).toEqual(expect.arrayContaining(errorClasses))
    // One class a code, one code a class: each cause has its own.
    expect(samples.map((error) => error.code).sort()).toEqual([...allCodes].sort())
    for (const error of samples) {
      expect(error.name).toBe(error.constructor.name)
      expect(error.name).not.toBe('Error')
      expect(allCodes).toContain(error.code)
    }
  })

  it('says how to fix a missing route', () => {
    expect(new errors.RouteNotFoundError('PlaceOrder').message).toContain("routes: { PlaceOrder: '<module>' }")
  })

  it('names the option and the value it got', () => {
    expect(new errors.InvalidModuleOptionError('concurrency', 'an integer ≥ 1', 0).message).toBe('Expected `concurrency` to be an integer ≥ 1, got 0.')
  })

  it('lets a caller catch every wrong option or argument as InvalidOptionError, each with its own code', () => {
    const error: unknown = new errors.InvalidSendOptionError('delayMs', 'a number ≥ 0', -1)
    expect(error).toBeInstanceOf(errors.InvalidOptionError)
    expect(error).toMatchObject({ code: 'MAILROOM_ERR_MESSAGE_INVALID_SEND_OPTION', option: 'delayMs' })
  })

  it('keeps docs/errors.md equal to the generated table', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
    expect(doc).toBe(renderErrorsDoc())
  })
})
