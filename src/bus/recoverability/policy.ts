import { InvalidOptionError, InvalidRecoverabilityOptionError, MailroomError, UnrecoverableError } from '../errors.js'

export interface RecoverabilityOptions {
  /**
   * Attempts made again at once, before any delay.
   * @default 3
   * @example { immediateRetries: 0 } // straight to delayed retries
   */
  immediateRetries?: number
  delayedRetries?: {
    /**
     * Rounds of delayed retries after the immediate ones failed. Each round again makes the
     * immediate retries. Delays double: baseDelayMs, 2x, 4x, ...
     * @default 3
     */
    count?: number
    /**
     * The first delay in milliseconds.
     * @default 2000
     * @example { baseDelayMs: 10 } // for tests
     */
    baseDelayMs?: number
  }
}

export interface RecoverabilityConfig {
  immediateRetries: number
  delayedRetries: { count: number; baseDelayMs: number }
}

/** Defaults: 3 immediate, then 2 s, 4 s, 8 s. NServiceBus uses 5 immediate and 10/20/30 s (linear). */
export const defaultRecoverability: RecoverabilityConfig = {
  immediateRetries: 3,
  delayedRetries: { count: 3, baseDelayMs: 2_000 },
}

export function resolveRecoverability(options: RecoverabilityOptions | undefined, prefix: string): RecoverabilityConfig {
  const immediateRetries = options?.immediateRetries ?? defaultRecoverability.immediateRetries
  const count = options?.delayedRetries?.count ?? defaultRecoverability.delayedRetries.count
  const baseDelayMs = options?.delayedRetries?.baseDelayMs ?? defaultRecoverability.delayedRetries.baseDelayMs
  requireWhole(`${prefix}.immediateRetries`, immediateRetries, 0, InvalidRecoverabilityOptionError)
  requireWhole(`${prefix}.delayedRetries.count`, count, 0, InvalidRecoverabilityOptionError)
  requireWhole(`${prefix}.delayedRetries.baseDelayMs`, baseDelayMs, 0, InvalidRecoverabilityOptionError)
  return { immediateRetries, delayedRetries: { count, baseDelayMs } }
}

/** Throws `Invalid` (the cause's own InvalidOptionError) unless `value` is an integer ≥ `min`. */
export function requireWhole(option: string, value: unknown, min: number, Invalid: new (option: string, expected: string, actual: unknown) => InvalidOptionError): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Invalid(option, `an integer ≥ ${min}`, value)
  }
}

export type RecoverabilityAction =
  | { kind: 'delayed-retry'; delayMs: number; round: number }
  | { kind: 'error-queue'; reason: 'unrecoverable' | 'exhausted' }

/** Caller errors (routing, validation) inside a handler are bugs that a retry cannot fix. */
const deterministicCodes = new Set<string>([
  'MAILROOM_ERR_ROUTE_NOT_FOUND',
  'MAILROOM_ERR_ROUTE_NO_REPLY_ADDRESS',
  'MAILROOM_ERR_MESSAGE_UNKNOWN_TYPE',
  'MAILROOM_ERR_MESSAGE_INVALID',
  'MAILROOM_ERR_MESSAGE_KIND_MISMATCH',
  'MAILROOM_ERR_MESSAGE_NO_HANDLER',
  'MAILROOM_ERR_HANDLER_UNRECOVERABLE',
  'MAILROOM_ERR_SAGA_DATA_INVALID',
  'MAILROOM_ERR_SAGA_CORRELATION_INVALID',
  'MAILROOM_ERR_DATA_INVALID',
  'MAILROOM_ERR_DATA_UNDECLARED_TABLE',
])

export function isUnrecoverable(error: unknown): boolean {
  return error instanceof UnrecoverableError || (error instanceof MailroomError && deterministicCodes.has(error.code))
}

/**
 * What to do once a delivery's immediate retries are used up (or skipped). Pure: the pipeline carries
 * the action out. `delayedRetriesDone` is how many delayed rounds the message already had.
 */
export function decideAfterFailure(error: unknown, delayedRetriesDone: number, config: RecoverabilityConfig): RecoverabilityAction {
  if (isUnrecoverable(error)) return { kind: 'error-queue', reason: 'unrecoverable' }
  if (delayedRetriesDone >= config.delayedRetries.count) return { kind: 'error-queue', reason: 'exhausted' }
  const round = delayedRetriesDone + 1
  return { kind: 'delayed-retry', round, delayMs: config.delayedRetries.baseDelayMs * 2 ** delayedRetriesDone }
}

export interface RetrySchedule {
  immediateRetries: number
  delaysMs: number[]
  maxAttempts: number
  /** For people: "3 immediate, then 2 s, 4 s, 8 s; 16 attempts at most". */
  text: string
}

export function describeSchedule(config: RecoverabilityConfig): RetrySchedule {
  const delaysMs = Array.from({ length: config.delayedRetries.count }, (_, i) => config.delayedRetries.baseDelayMs * 2 ** i)
  const maxAttempts = (config.immediateRetries + 1) * (delaysMs.length + 1)
  const delays = delaysMs.length > 0 ? `then ${delaysMs.map(formatDuration).join(', ')}` : 'no delayed retries'
  const text = `${config.immediateRetries} immediate, ${delays}; ${maxAttempts} attempt${maxAttempts === 1 ? '' : 's'} at most`
  return { immediateRetries: config.immediateRetries, delaysMs, maxAttempts, text }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`
  return `${Number((ms / 60_000).toFixed(1))} min`
}
