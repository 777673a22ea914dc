import { describe, expect, it } from 'vitest'
import { ConfigError, readConfig } from '../src/config.js'

describe('the configuration of npm start', () => {
  it('runs the whole shop in one process with the embedded transport by default', () => {
    expect(readConfig({}, [])).toMatchObject({ modules: undefined, web: true, parts: undefined, transport: undefined, amqpNamespace: 'mailroom' })
  })

  it('carries the messages in PostgreSQL with --transport postgres (or MAILROOM_TRANSPORT=postgres), a claim lasting MAILROOM_POSTGRES_LEASE_MS', () => {
    expect(readConfig({ MAILROOM_TRANSPORT: 'postgres', MAILROOM_POSTGRES_URL: 'postgres://db/shop' }, ['--modules', 'billing'])).toMatchObject({ transport: 'postgres', postgres: 'postgres://db/shop', modules: ['billing'], postgresLeaseMs: 60_000 })
    expect(readConfig({ MAILROOM_POSTGRES_LEASE_MS: '5000' }, ['--transport', 'postgres', '--postgres', 'postgres://db/shop'])).toMatchObject({ transport: 'postgres', postgresLeaseMs: 5_000 })
  })

  it('runs the parts named by --modules over the broker named by --transport or MAILROOM_TRANSPORT', () => {
    expect(readConfig({}, ['--modules', 'billing', '--transport', 'amqp://guest:guest@127.0.0.1:5672'])).toMatchObject({ modules: ['billing'], web: false, transport: 'amqp://guest:guest@127.0.0.1:5672' })
    expect(readConfig({ MAILROOM_TRANSPORT: 'amqps://broker.example', MAILROOM_AMQP_NAMESPACE: 'shop-2' }, ['--modules', 'web, sales'])).toMatchObject({
      modules: ['sales'],
      web: true,
      parts: ['web', 'sales'],
      transport: 'amqps://broker.example',
      amqpNamespace: 'shop-2',
    })
  })

  it('logs readable lines on a terminal and JSON otherwise, at MAILROOM_LOG_LEVEL; refuses a level or format it does not know', () => {
    expect(readConfig({}, [], true)).toMatchObject({ logFormat: 'pretty', logLevel: 'info' })
    expect(readConfig({}, [], false)).toMatchObject({ logFormat: 'json' })
    expect(readConfig({ MAILROOM_LOG_FORMAT: 'json', MAILROOM_LOG_LEVEL: 'debug' }, [], true)).toMatchObject({ logFormat: 'json', logLevel: 'debug' })
    expect(() => readConfig({ MAILROOM_LOG_LEVEL: 'loud' }, [])).toThrow(new ConfigError('MAILROOM_LOG_LEVEL', 'one of trace, debug, info, warn, error, fatal, silent', 'loud'))
    expect(() => readConfig({ MAILROOM_LOG_FORMAT: 'xml' }, [])).toThrow(/MAILROOM_LOG_FORMAT/)
  })

  it('links log lines to a trace viewer named by MAILROOM_TRACE_URL, refusing an address without {traceId}', () => {
    expect(readConfig({}, []).traceUrl).toBeUndefined()
    expect(readConfig({ MAILROOM_TRACE_URL: 'http://localhost:16686/trace/{traceId}' }, []).traceUrl).toBe('http://localhost:16686/trace/{traceId}')
    expect(() => readConfig({ MAILROOM_TRACE_URL: 'http://localhost:16686/trace/' }, [])).toThrow(/MAILROOM_TRACE_URL/)
    expect(() => readConfig({ MAILROOM_TRACE_URL: 'javascript:alert({traceId})' }, [])).toThrow(/MAILROOM_TRACE_URL/)
  })

  it('starts OpenTelemetry only when the OTEL_* environment asks for an exporter, and not when OTEL_SDK_DISABLED says so', () => {
    expect(readConfig({}, []).telemetry).toBe(false)
    expect(readConfig({ OTEL_SERVICE_NAME: 'shop' }, []).telemetry).toBe(false)
    expect(readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }, []).telemetry).toBe(true)
    expect(readConfig({ OTEL_TRACES_EXPORTER: 'console' }, []).telemetry).toBe(true)
    expect(readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318', OTEL_SDK_DISABLED: 'true' }, []).telemetry).toBe(false)
  })

  it('keeps the modules’ data in the PostgreSQL named by --postgres or MAILROOM_POSTGRES_URL, journal files otherwise', () => {
    expect(readConfig({}, [])).toMatchObject({ postgres: undefined, postgresPrefix: 'mailroom', postgresRetryMs: 2_000, postgresTakeOverMs: 30_000 })
    expect(readConfig({ MAILROOM_POSTGRES_TAKEOVER_MS: '5000' }, [])).toMatchObject({ postgresTakeOverMs: 5_000 })
    expect(readConfig({}, ['--postgres', 'postgres://shop@db.example/shop'])).toMatchObject({ postgres: 'postgres://shop@db.example/shop' })
    expect(readConfig({ MAILROOM_POSTGRES_URL: 'postgresql://127.0.0.1/test', MAILROOM_POSTGRES_PREFIX: 'shop_2', MAILROOM_POSTGRES_RETRY_MS: '500' }, [])).toMatchObject({
      postgres: 'postgresql://127.0.0.1/test',
      postgresPrefix: 'shop_2',
      postgresRetryMs: 500,
    })
  })

  it('refuses what it cannot run, and says what it expected', () => {
    const refusal = (env: NodeJS.ProcessEnv, args: string[]) => {
      try {
        readConfig(env, args)
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        return (error as Error).message
      }
      throw new Error('accepted')
    }
    expect(refusal({}, ['--modules', 'Sales'])).toContain("a comma-separated list of module names (lower-case) and web, got 'Sales'")
    expect(refusal({}, ['--transport', 'http://broker'])).toContain("an amqp:// or amqps:// URL, or postgres, got 'http://broker'")
    expect(refusal({ MAILROOM_TRANSPORT: 'postgres' }, [])).toContain('MAILROOM_TRANSPORT=postgres) to be a PostgreSQL URL in MAILROOM_POSTGRES_URL (or --postgres)')
    expect(refusal({ MAILROOM_AMQP_NAMESPACE: 'a b' }, [])).toContain('MAILROOM_AMQP_NAMESPACE')
    expect(refusal({}, ['--postgres', 'mysql://db'])).toContain("a postgres:// or postgresql:// URL, got 'mysql://db'")
    expect(refusal({ MAILROOM_POSTGRES_PREFIX: 'Shop-2' }, [])).toContain('MAILROOM_POSTGRES_PREFIX')
    expect(refusal({}, ['--port', '3000'])).toContain('--modules <list>, --transport <url or postgres> and --postgres <url> only')
  })
})
