import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import type { FailureRecord } from '../delivery/delivery.js'

const failureHeaderNames: readonly string[] = [
  Headers.ExceptionType,
  Headers.ExceptionMessage,
  Headers.ExceptionStack,
  Headers.FailedModule,
  Headers.FailedAt,
]

/** An error's type as failures name it (the error queue's groups, a span's `error.type`): its name, or what was thrown. */
export function errorTypeOf(error: unknown): string {
  return error instanceof Error ? error.name || 'Error' : typeof error
}

export function describeFailure(error: unknown, handler: string, at: number): FailureRecord {
  if (error instanceof Error) {
    const record: FailureRecord = { at, handler, type: errorTypeOf(error), message: error.message }
    if (error.stack) record.stack = error.stack
    return record
  }
  return { at, handler, type: errorTypeOf(error), message: String(error) }
}

/** The envelope as it sits in the error queue: original headers plus why and where it failed. */
export function withFailureHeaders(env: Envelope, failure: FailureRecord, module: string): Envelope {
  const headers: Record<string, string> = {
    ...env.headers,
    [Headers.ExceptionType]: failure.type,
    [Headers.ExceptionMessage]: failure.message,
    [Headers.FailedModule]: module,
    [Headers.FailedAt]: new Date(failure.at).toISOString(),
  }
  if (failure.stack) headers[Headers.ExceptionStack] = failure.stack
  return { ...env, headers }
}

/** The envelope sent back by a retry: the original id and headers, the failure headers gone, a retry count. */
export function forRetry(env: Envelope): Envelope {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(env.headers)) if (!failureHeaderNames.includes(name)) headers[name] = value
  headers[Headers.Retries] = String(Number(env.headers[Headers.Retries] ?? '0') + 1)
  delete headers[Headers.DelayedRetries]
  return { ...env, headers }
}

export function withDelayedRetryCount(env: Envelope, round: number): Envelope {
  return { ...env, headers: { ...env.headers, [Headers.DelayedRetries]: String(round) } }
}
