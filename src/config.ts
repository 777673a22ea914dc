import type { RecoverabilityOptions } from './bus/index.js'

export interface AppConfig {
  host: string
  port: number
  dataDir: string | undefined
  recoverability: RecoverabilityOptions
  gatewayLimitPerSecond: number | undefined
  billingMaxPerSecond: number | undefined
  buyersRemorseMs: number
  billingWaitMs: number
  /** false keeps every journal record (chaos runs count them). */
  compaction: boolean
}

export class ConfigError extends Error {
  constructor(variable: string, expected: string, actual: string) {
    super(`Expected ${variable} to be ${expected}, got '${actual}'.`)
    this.name = 'ConfigError'
  }
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) throw new ConfigError(name, `an integer ≥ ${min}`, raw)
  return value
}

/** A rate: a positive number, or `off`. */
function rate(env: NodeJS.ProcessEnv, name: string, fallback: number): number | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'off') return undefined
  const value = Number(raw)
  if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError(name, "a number > 0 or 'off'", raw)
  return value
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'on' || raw === 'off') return raw === 'on'
  throw new ConfigError(name, "'on' or 'off'", raw)
}

/**
 * Configuration by environment, so tests and scripts can run the app on a free port, a fresh data
 * directory and short retry delays:
 * PORT (3000), HOST (127.0.0.1), MAILROOM_DATA_DIR (./data), MAILROOM_IMMEDIATE_RETRIES (3),
 * MAILROOM_DELAYED_RETRIES (3), MAILROOM_RETRY_BASE_MS (2000), MAILROOM_GATEWAY_LIMIT (50 or off),
 * MAILROOM_BILLING_RATE (40 or off), MAILROOM_BUYERS_REMORSE_MS (10000), MAILROOM_BILLING_WAIT_MS (30000),
 * MAILROOM_COMPACTION (on or off).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const immediateRetries = wholeNumber(env, 'MAILROOM_IMMEDIATE_RETRIES', 0)
  const count = wholeNumber(env, 'MAILROOM_DELAYED_RETRIES', 0)
  const baseDelayMs = wholeNumber(env, 'MAILROOM_RETRY_BASE_MS', 0)
  const recoverability: RecoverabilityOptions = {}
  if (immediateRetries !== undefined) recoverability.immediateRetries = immediateRetries
  if (count !== undefined || baseDelayMs !== undefined) {
    recoverability.delayedRetries = { ...(count !== undefined ? { count } : {}), ...(baseDelayMs !== undefined ? { baseDelayMs } : {}) }
  }
  return {
    host: env.HOST || '127.0.0.1',
    port: wholeNumber(env, 'PORT', 0) ?? 3000,
    dataDir: env.MAILROOM_DATA_DIR || undefined,
    recoverability,
    gatewayLimitPerSecond: rate(env, 'MAILROOM_GATEWAY_LIMIT', 50),
    billingMaxPerSecond: rate(env, 'MAILROOM_BILLING_RATE', 40),
    buyersRemorseMs: wholeNumber(env, 'MAILROOM_BUYERS_REMORSE_MS', 0) ?? 10_000,
    billingWaitMs: wholeNumber(env, 'MAILROOM_BILLING_WAIT_MS', 0) ?? 30_000,
    compaction: onOff(env, 'MAILROOM_COMPACTION', true),
  }
}
