import { parseArgs } from 'node:util'
import type { RecoverabilityOptions } from './bus/index.js'
import { isTraceUrl } from './web/trace-link.js'

/** The console's name among `--modules`; every other name is one of the shop's modules (src/shop-modules.ts). */
export const consolePart = 'web'

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
  /**
   * The shop's modules this process runs (`--modules`, less `web`); undefined: all of them (the composition
   * root's list, src/shop-modules.ts), which createBus checks the names against.
   */
  modules: string[] | undefined
  /** Whether this process serves the console (`web` in `--modules`, or no `--modules`). */
  web: boolean
  /** What `--modules` said, for names of data directories and connections; undefined without it. */
  parts: string[] | undefined
  /**
   * `--transport` or MAILROOM_TRANSPORT: a broker URL (RabbitMQ), `postgres` (the queues in PostgreSQL, at
   * MAILROOM_POSTGRES_URL), or undefined for the embedded transport.
   */
  transport: string | undefined
  /** A PostgreSQL URL (`--postgres` or MAILROOM_POSTGRES_URL): the modules' data there, shared by every process; undefined: journal files. */
  postgres: string | undefined
  /** Prefix of the PostgreSQL schemas (MAILROOM_POSTGRES_PREFIX). */
  postgresPrefix: string
  /** How often `npm start` tries PostgreSQL again when it does not answer at start (MAILROOM_POSTGRES_RETRY_MS). */
  postgresRetryMs: number
  /** How long a message written to PostgreSQL may wait unsent before another process sends it (MAILROOM_POSTGRES_TAKEOVER_MS). */
  postgresTakeOverMs: number
  /** With `--transport postgres`: how long a claimed message stays invisible to other instances before it is delivered again (MAILROOM_POSTGRES_LEASE_MS). */
  postgresLeaseMs: number
  /** Prefix of the broker's queues and exchanges (MAILROOM_AMQP_NAMESPACE). */
  amqpNamespace: string
  /** How long `npm start` waits for the broker before it gives up with one line (MAILROOM_BROKER_WAIT_MS). */
  brokerWaitMs: number
  /** The least level logged (MAILROOM_LOG_LEVEL). */
  logLevel: LogLevelName
  /** Readable lines or JSON (MAILROOM_LOG_FORMAT); by default readable on a terminal, JSON otherwise. */
  logFormat: 'pretty' | 'json'
  /** Whether the OTEL_* environment asks for an exporter: then src/telemetry.ts starts OpenTelemetry's Node SDK. */
  telemetry: boolean
  /** A trace viewer's address with `{traceId}` (MAILROOM_TRACE_URL): the console's log lines link to their traces. */
  traceUrl: string | undefined
}

/** The OTEL_* variables that ask for an exporter; a plain `npm start` sets none, and starts no SDK. */
const askingVariables = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
] as const

/** Whether `env` asks for telemetry (and does not turn the SDK off with OTEL_SDK_DISABLED=true). */
function telemetryRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false
  return askingVariables.some((name) => (env[name] ?? '').trim() !== '')
}

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevelName = (typeof logLevels)[number]

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
 * MAILROOM_COMPACTION (on or off), MAILROOM_AUDIT_CONVERSATIONS (100000), MAILROOM_AUDIT_DAYS (7), MAILROOM_TRANSPORT (an amqp:// URL, or postgres; unset: embedded),
 * MAILROOM_AMQP_NAMESPACE (mailroom), MAILROOM_BROKER_WAIT_MS (10000), MAILROOM_POSTGRES_URL (a postgres:// URL; unset:
 * journal files), MAILROOM_POSTGRES_PREFIX (mailroom), MAILROOM_POSTGRES_RETRY_MS (2000), MAILROOM_POSTGRES_TAKEOVER_MS (30000), MAILROOM_POSTGRES_LEASE_MS (60000),
 * MAILROOM_LOG_LEVEL (info), MAILROOM_LOG_FORMAT (pretty on a terminal, json otherwise), MAILROOM_TRACE_URL (unset).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, args: readonly string[] = process.argv.slice(2), stdoutIsTerminal = process.stdout.isTTY === true): AppConfig {
  const { parts, transport, postgres } = readCommandLine(env, args)
  const modules = parts?.filter((part) => part !== consolePart)
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
    modules,
    web: parts === undefined || parts.includes(consolePart),
    parts,
    transport,
    postgres,
    postgresPrefix: postgresPrefix(env),
    postgresRetryMs: wholeNumber(env, 'MAILROOM_POSTGRES_RETRY_MS', 100) ?? 2_000,
    postgresTakeOverMs: wholeNumber(env, 'MAILROOM_POSTGRES_TAKEOVER_MS', 1_000) ?? 30_000,
    postgresLeaseMs: wholeNumber(env, 'MAILROOM_POSTGRES_LEASE_MS', 1_000) ?? 60_000,
    amqpNamespace: namespace(env),
    brokerWaitMs: wholeNumber(env, 'MAILROOM_BROKER_WAIT_MS', 0) ?? 10_000,
    logLevel: oneOf(env, 'MAILROOM_LOG_LEVEL', logLevels, 'info'),
    logFormat: oneOf(env, 'MAILROOM_LOG_FORMAT', ['pretty', 'json'] as const, stdoutIsTerminal ? 'pretty' : 'json'),
    telemetry: telemetryRequested(env),
    traceUrl: traceUrl(env),
  }
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `one of ${allowed.join(', ')}`, raw)
  return raw as T
}

function traceUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.MAILROOM_TRACE_URL
  if (raw === undefined || raw === '') return undefined
  if (!isTraceUrl(raw)) throw new ConfigError('MAILROOM_TRACE_URL', 'an http(s) address with {traceId} in it (Jaeger: http://localhost:16686/trace/{traceId})', raw)
  return raw
}

function postgresPrefix(env: NodeJS.ProcessEnv): string {
  const raw = env.MAILROOM_POSTGRES_PREFIX
  if (raw === undefined || raw === '') return 'mailroom'
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(raw)) throw new ConfigError('MAILROOM_POSTGRES_PREFIX', 'lower-case letters, digits and underscores (at most 40, not starting with a digit)', raw)
  return raw
}

function namespace(env: NodeJS.ProcessEnv): string {
  const raw = env.MAILROOM_AMQP_NAMESPACE
  if (raw === undefined || raw === '') return 'mailroom'
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(raw)) throw new ConfigError('MAILROOM_AMQP_NAMESPACE', 'letters, digits, dots, dashes and underscores (at most 100)', raw)
  return raw
}

/**
 * `--modules sales,billing` (any of the shop's modules, and `web` for the console) and `--transport
 * amqp://...` (or MAILROOM_TRANSPORT). Which names are modules, and whether the ones left out can be
 * reached (they need a broker), the bus decides: it knows the composition root's list.
 */
function readCommandLine(env: NodeJS.ProcessEnv, args: readonly string[]): { parts: string[] | undefined; transport: string | undefined; postgres: string | undefined } {
  let values: { modules?: string | undefined; transport?: string | undefined; postgres?: string | undefined }
  try {
    ;({ values } = parseArgs({ args: [...args], options: { modules: { type: 'string' }, transport: { type: 'string' }, postgres: { type: 'string' } }, strict: true, allowPositionals: false }))
  } catch (error) {
    throw new ConfigError('the command line', '--modules <list>, --transport <url or postgres> and --postgres <url> only', `${args.join(' ')}: ${(error as Error).message}`)
  }
  const transport = values.transport || env.MAILROOM_TRANSPORT || undefined
  if (transport !== undefined && transport !== 'postgres' && !/^amqps?:\/\//.test(transport)) throw new ConfigError('--transport (or MAILROOM_TRANSPORT)', 'an amqp:// or amqps:// URL, or postgres', transport)
  const postgres = values.postgres || env.MAILROOM_POSTGRES_URL || undefined
  if (postgres !== undefined && !/^postgres(ql)?:\/\//.test(postgres)) throw new ConfigError('--postgres (or MAILROOM_POSTGRES_URL)', 'a postgres:// or postgresql:// URL', postgres)
  // The queues in PostgreSQL need to know which one.
  if (transport === 'postgres' && postgres === undefined) throw new ConfigError('--transport postgres (or MAILROOM_TRANSPORT=postgres)', 'a PostgreSQL URL in MAILROOM_POSTGRES_URL (or --postgres)', 'none')
  if (values.modules === undefined) return { parts: undefined, transport, postgres }
  const names = [...new Set(values.modules.split(',').map((name) => name.trim()).filter((name) => name !== ''))]
  if (names.length === 0 || names.some((name) => !/^[a-z][a-z0-9-]{0,62}$/.test(name))) {
    throw new ConfigError('--modules', `a comma-separated list of module names (lower-case) and ${consolePart}`, values.modules)
  }
  return { parts: names, transport, postgres }
}
