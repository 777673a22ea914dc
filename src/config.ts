import { parseArgs } from 'node:util'
import type { RecoverabilityOptions } from './bus/index.js'

/** What `npm start` can run in one process: the shop's modules and the console. */
export const processParts = ['sales', 'billing', 'shipping', 'web'] as const
export type ProcessPart = (typeof processParts)[number]

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
  /** The audit's retention: conversations kept per module, and for how long. */
  audit: { maxConversations: number; maxAgeMs: number }
  /** The parts this process runs (`--modules`); all of them by default. */
  parts: ProcessPart[]
  /** A broker URL (`--transport` or MAILROOM_TRANSPORT), or undefined for the embedded transport. */
  transport: string | undefined
  /** Prefix of the broker's queues and exchanges (MAILROOM_AMQP_NAMESPACE). */
  amqpNamespace: string
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
 * MAILROOM_COMPACTION (on or off), MAILROOM_AUDIT_CONVERSATIONS (100000), MAILROOM_AUDIT_DAYS (7), MAILROOM_TRANSPORT (an amqp:// URL; unset: embedded),
 * MAILROOM_AMQP_NAMESPACE (mailroom).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, args: readonly string[] = process.argv.slice(2)): AppConfig {
  const { parts, transport } = readCommandLine(env, args)
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
    audit: {
      maxConversations: wholeNumber(env, 'MAILROOM_AUDIT_CONVERSATIONS', 1) ?? 100_000,
      maxAgeMs: (wholeNumber(env, 'MAILROOM_AUDIT_DAYS', 1) ?? 7) * 24 * 3_600_000,
    },
    parts,
    transport,
    amqpNamespace: namespace(env),
  }
}

function namespace(env: NodeJS.ProcessEnv): string {
  const raw = env.MAILROOM_AMQP_NAMESPACE
  if (raw === undefined || raw === '') return 'mailroom'
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(raw)) throw new ConfigError('MAILROOM_AMQP_NAMESPACE', 'letters, digits, dots, dashes and underscores (at most 100)', raw)
  return raw
}

/**
 * `--modules sales,billing` (any of sales, billing, shipping, web) and `--transport amqp://...`
 * (or MAILROOM_TRANSPORT). Running only some parts needs a broker: the others run in other processes.
 */
function readCommandLine(env: NodeJS.ProcessEnv, args: readonly string[]): { parts: ProcessPart[]; transport: string | undefined } {
  let values: { modules?: string | undefined; transport?: string | undefined }
  try {
    ;({ values } = parseArgs({ args: [...args], options: { modules: { type: 'string' }, transport: { type: 'string' } }, strict: true, allowPositionals: false }))
  } catch (error) {
    throw new ConfigError('the command line', '--modules <list> and --transport <url> only', `${args.join(' ')}: ${(error as Error).message}`)
  }
  const transport = values.transport || env.MAILROOM_TRANSPORT || undefined
  if (transport !== undefined && !/^amqps?:\/\//.test(transport)) throw new ConfigError('--transport (or MAILROOM_TRANSPORT)', 'an amqp:// or amqps:// URL', transport)
  if (values.modules === undefined) return { parts: [...processParts], transport }
  const names = values.modules.split(',').map((name) => name.trim()).filter((name) => name !== '')
  const unknown = names.find((name) => !(processParts as readonly string[]).includes(name))
  if (unknown !== undefined || names.length === 0) throw new ConfigError('--modules', `a comma-separated list of ${processParts.join(', ')}`, values.modules)
  const parts = processParts.filter((part) => names.includes(part))
  if (parts.length < processParts.length && transport === undefined) {
    throw new ConfigError('--transport (or MAILROOM_TRANSPORT)', 'a broker URL when --modules runs only some of the shop (the others run in processes of their own)', '(unset)')
  }
  return { parts, transport }
}
