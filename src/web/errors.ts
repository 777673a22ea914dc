import { MailroomError } from '../bus/index.js'

/** Errors of the web layer; each carries the HTTP status it maps to in the app's one error handler. */
export class WebError extends MailroomError {
  constructor(
    code:
      | 'MAILROOM_ERR_WEB_INVALID_REQUEST'
      | 'MAILROOM_ERR_WEB_NOT_FOUND'
      | 'MAILROOM_ERR_WEB_CROSS_ORIGIN'
      | 'MAILROOM_ERR_WEB_UNSUPPORTED_MEDIA_TYPE'
      | 'MAILROOM_ERR_WEB_CSRF'
      | 'MAILROOM_ERR_WEB_CONFLICT'
      | 'MAILROOM_ERR_WEB_TOO_MANY_STREAMS'
      | 'MAILROOM_ERR_WEB_INTERNAL',
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

export class InternalServerError extends WebError {
  constructor() {
    super('MAILROOM_ERR_WEB_INTERNAL', 500, 'Something went wrong on our side; the details are in the server log.')
  }
}
