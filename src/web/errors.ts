import { MailroomError } from '../bus/index.js'

/** The console's own codes (the bus's are in its catalogue); docs/errors.md lists both. */
export const WebErrorCodes = {
  MAILROOM_ERR_WEB_INVALID_REQUEST: 'An HTTP request body, parameter or query failed its schema; the message names the field.',
  MAILROOM_ERR_WEB_NOT_FOUND: 'An HTTP request named a module, message, order or conversation that does not exist.',
  MAILROOM_ERR_WEB_CROSS_ORIGIN: 'A state-changing request came from another origin.',
  MAILROOM_ERR_WEB_UNSUPPORTED_MEDIA_TYPE: 'A JSON API request did not send application/json.',
  MAILROOM_ERR_WEB_CSRF: 'A form was posted without a valid CSRF token.',
  MAILROOM_ERR_WEB_CONFLICT: 'The request does not fit what the thing is now, e.g. cancelling an order whose window has passed.',
  MAILROOM_ERR_WEB_TOO_MANY_STREAMS: 'The live stream has as many clients as it takes (streamMaxClients); try again shortly.',
  MAILROOM_ERR_WEB_NOT_AUTHENTICATED: "The host app's authenticate hook refused the request: sign in first (401).",
  MAILROOM_ERR_WEB_READ_ONLY: 'The console is mounted read-only: it shows, it changes nothing (no stop, start, fault, retry or delete).',
  MAILROOM_ERR_WEB_INVALID_OPTION: 'mailroomConsole was registered with an option it does not take, or a wrong value; the message names it.',
  MAILROOM_ERR_WEB_INTERNAL: 'The server failed; the details are in its log, not in the response.',
} as const

export type WebErrorCode = keyof typeof WebErrorCodes

/** Errors of the web layer; each carries the HTTP status it maps to in the app's one error handler. */
export class WebError extends MailroomError<WebErrorCode> {
  constructor(
    code: WebErrorCode,
    readonly statusCode: number,
    message: string,
  ) {
    super(code, message)
  }
}

export class TooManyStreamsError extends WebError {
  constructor(max: number) {
    super('MAILROOM_ERR_WEB_TOO_MANY_STREAMS', 503, `The live stream takes ${max} clients at a time and has them; try again in a few seconds.`)
  }
}

export class NotFoundError extends WebError {
  constructor(what: string, id: string) {
    super('MAILROOM_ERR_WEB_NOT_FOUND', 404, `No ${what} '${id}'.`)
  }
}

export class InvalidRequestError extends WebError {
  constructor(message: string) {
    super('MAILROOM_ERR_WEB_INVALID_REQUEST', 400, message)
  }
}

export class CrossOriginError extends WebError {
  constructor(origin: string) {
    super('MAILROOM_ERR_WEB_CROSS_ORIGIN', 403, `Requests from '${origin}' may not change anything here; use the console at its own address.`)
  }
}

export class UnsupportedMediaTypeError extends WebError {
  constructor(contentType: string | undefined) {
    super('MAILROOM_ERR_WEB_UNSUPPORTED_MEDIA_TYPE', 415, `The JSON API takes application/json bodies, got '${contentType ?? 'none'}'.`)
  }
}

export class ConflictError extends WebError {
  constructor(message: string) {
    super('MAILROOM_ERR_WEB_CONFLICT', 409, message)
  }
}

export class CsrfError extends WebError {
  constructor() {
    super('MAILROOM_ERR_WEB_CSRF', 403, 'The form had no valid CSRF token. Reload the page and try again.')
  }
}

/** For a host's `authenticate` hook to throw: the request carries no (valid) credentials. */
export class NotAuthenticatedError extends WebError {
  constructor(message = 'Sign in to use the console.') {
    super('MAILROOM_ERR_WEB_NOT_AUTHENTICATED', 401, message)
  }
}

export class ReadOnlyError extends WebError {
  constructor() {
    super('MAILROOM_ERR_WEB_READ_ONLY', 403, 'This console is read-only: it shows the bus and changes nothing.')
  }
}

/** A misconfigured mailroomConsole: refused when the host app registers it, before it serves anything. */
export class ConsoleOptionError extends MailroomError<WebErrorCode> {
  constructor(option: string, expected: string, actual: unknown) {
    super('MAILROOM_ERR_WEB_INVALID_OPTION', `Expected mailroomConsole's \`${option}\` to be ${expected}, got ${typeof actual === 'string' ? `'${actual}'` : typeof actual}.`)
  }
}

export class InternalServerError extends WebError {
  constructor() {
    super('MAILROOM_ERR_WEB_INTERNAL', 500, 'Something went wrong on our side; the details are in the server log.')
  }
}
