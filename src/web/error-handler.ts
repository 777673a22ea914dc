import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { MailroomError } from '../bus/index.js'
import { InternalServerError, WebError } from './errors.js'

/** The console's and the shop's one error handler: a JSON body with its MAILROOM_ERR_* code. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { statusCode, body } = describeError(error)
  if (statusCode >= 500) request.log.error(error)
  // A full or failing disk, a database that is away, a bus not yet started, a full live stream: worth trying again shortly.
  if (statusCode === 503) reply.header('retry-after', body.code === 'MAILROOM_ERR_WEB_TOO_MANY_STREAMS' ? '5' : '1')
  reply.code(statusCode).send(body)
}

const statusOfCode: Partial<Record<string, number>> = {
  MAILROOM_ERR_MESSAGE_INVALID: 400,
  MAILROOM_ERR_MODULE_NOT_FOUND: 404,
  MAILROOM_ERR_BUS_NOT_STARTED: 503,
  MAILROOM_ERR_JOURNAL_WRITE_FAILED: 503,
  MAILROOM_ERR_PERSISTENCE_UNAVAILABLE: 503,
  MAILROOM_ERR_PERSISTENCE_OUTCOME_UNKNOWN: 503,
}

/** One place maps errors to HTTP: a 400 names the field, every JSON body keeps its MAILROOM_ERR_* code. */
export function describeError(error: FastifyError): { statusCode: number; body: Record<string, unknown> } {
  const make = (statusCode: number, code: string, message: string) => ({
    statusCode,
    body: { statusCode, code, error: statusText(statusCode), message },
  })
  if (error.validation) return make(400, 'MAILROOM_ERR_WEB_INVALID_REQUEST', error.message)
  if (error instanceof WebError) return make(error.statusCode, error.code, error.message)
  if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
    return make(403, 'MAILROOM_ERR_WEB_CSRF', 'The form had no valid CSRF token. Reload the page and try again.')
  }
  if (error instanceof MailroomError) return make(statusOfCode[error.code] ?? 500, error.code, error.message)
  // A host's authenticate hook may throw its own error with a 401.
  if (error.statusCode === 401) return make(401, 'MAILROOM_ERR_WEB_NOT_AUTHENTICATED', error.message)
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return make(error.statusCode, error.statusCode === 415 ? 'MAILROOM_ERR_WEB_UNSUPPORTED_MEDIA_TYPE' : 'MAILROOM_ERR_WEB_INVALID_REQUEST', error.message)
  }
  const internal = new InternalServerError()
  return make(internal.statusCode, internal.code, internal.message)
}

function statusText(statusCode: number): string {
  return { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 503: 'Service Unavailable' }[statusCode] ?? (statusCode >= 500 ? 'Internal Server Error' : 'Error')
}
