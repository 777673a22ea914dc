import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as errors from '../../../src/bus/errors.js'
import { renderErrorsDoc } from '../../../scripts/errors-table.js'
import * as webErrors from '../../../src/web/errors.js'

const errorClasses = [...Object.values(errors as Record<string, unknown>), ...Object.values(webErrors as Record<string, unknown>)].filter(
  (value): value is new (...args: never[]) => errors.MailroomError =>
    typeof value === "function" && value.prototype instanceof errors.MailroomError && value !== webErrors.WebError,
)

describe('the error catalogue', () => {
  it('names every code MAILROOM_ERR_<AREA>_<WHAT> with a known area', () => {
    for (const code of Object.keys(errors.ErrorCodes)) {
      expect(code).toMatch(/^MAILROOM_ERR_(ROUTE|MESSAGE|JOURNAL|MODULE|SAGA|DATA|TRANSPORT|WEB|BUS|HANDLER)_[A-Z_]+$/)
    }
  })

  it('has a class for every code, and every class sets its own name and a catalogued code', () => {
    const samples: errors.MailroomError[] = [
      new errors.RouteNotFoundError('PlaceOrder'),
      new errors.InvalidRouteError('PlaceOrder', 'why'),
      new errors.NoReplyAddressError('X'),
      new errors.UnknownMessageTypeError('X'),
      new errors.InvalidMessageError('X', [{ path: '/a', message: 'must be string' }]),
      new errors.MessageKindMismatchError('X', 'event'),
      new errors.DuplicateMessageTypeError('X'),
      new errors.NoHandlerError('X', 'sales'),
      new errors.InvalidOptionError('concurrency', 'an integer ≥ 1', 0),
      new errors.ModuleNotFoundError('x', ['sales']),
      new errors.DuplicateModuleError('x'),
      new errors.ModulesUnreachableError(['email']),
      new errors.BusNotStartedError('send'),
      new errors.BusAlreadyStartedError(),
      new errors.JournalCorruptError('/f', 10, 'checksum mismatch'),
      new errors.DataDirLockedError('/lock', 1),
      new errors.JournalWriteError('/f'),
      new errors.BrokerUnavailableError('the message'),
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
    ]
    expect(samples.map((error) => error.constructor)).toEqual(expect.arrayContaining(errorClasses))
    expect(new Set(samples.map((error) => error.code))).toEqual(new Set(Object.keys(errors.ErrorCodes)))
    for (const error of samples) {
      expect(error.name).toBe(error.constructor.name)
      expect(error.name).not.toBe('Error')
      expect(Object.keys(errors.ErrorCodes)).toContain(error.code)
    }
  })

  it('says how to fix a missing route', () => {
    expect(new errors.RouteNotFoundError('PlaceOrder').message).toContain("routes: { PlaceOrder: '<module>' }")
  })

  it('names the option and the value it got', () => {
    expect(new errors.InvalidOptionError('concurrency', 'an integer ≥ 1', 0).message).toBe('Expected `concurrency` to be an integer ≥ 1, got 0.')
  })

  it('keeps docs/errors.md equal to the generated table', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
    expect(doc).toBe(renderErrorsDoc())
  })
})
