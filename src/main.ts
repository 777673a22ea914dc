import { join } from 'node:path'
import { createAmqpConsoleLink, createAmqpTransport } from './bus/amqp.js'
import pg from 'pg'
import { postgresConsoleLink, postgresTransport } from './bus/postgres.js'
import { MailroomError, PersistenceUnavailableError } from './bus/index.js'
import { ConfigError, readConfig, type AppConfig } from './config.js'
import { createShopLogger } from './logging.js'
import { createShop } from './shop.js'
import { buildApp } from './web/app.js'

/**
 * The composition root: configuration, the shop's modules on one bus, the console. With `--modules`
 * and a broker it runs only some of them; `npm start` alone runs them all in this process.
 */
let config: AppConfig
try {
  config = readConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message)
    process.exit(2)
  }
  throw error
}

/** An expected start-up failure (a module the bus does not have, one it cannot reach, a locked or damaged journal): one line, no stack. */
function exitWith(error: unknown): never {
  if (error instanceof MailroomError) {
    console.error(error.message)
    process.exit(2)
  }
  throw error
}

const parts = config.parts
const logger = createShopLogger({ level: config.logLevel, format: config.logFormat })
// Before the bus starts (its meter binds then) and before Fastify is created (its instrumentation hooks in then).
const telemetry = config.telemetry ? (await import('./telemetry.js')).startTelemetry({ serviceName: parts ? `mailroom-${parts.join('+')}` : 'mailroom' }) : undefined
// One data directory per process (each holds the lock on its own): ./data for the whole shop,
// ./data/processes/<parts> for a share of it (apart from the whole shop's module directories).
const dataDir = config.dataDir ?? (parts ? join('data', 'processes', parts.join('+')) : undefined)
const partsText = parts?.join('+') ?? 'all'
/**
 * With the queues in PostgreSQL: one pool for the transport and the console link (each LISTENs on one of
 * its connections), so six processes of the shop stay well inside the server's 100 connections.
 */
const queuesPool = config.transport === 'postgres' ? new pg.Pool({ connectionString: config.postgres!, max: 5, connectionTimeoutMillis: 10_000 }) : undefined
queuesPool?.on('error', () => {})
let shop: ReturnType<typeof createShop>
try {
  shop = createShop({
    ...(dataDir ? { dataDir } : {}),
    recoverability: config.recoverability,
    gatewayLimitPerSecond: config.gatewayLimitPerSecond,
    billingMaxPerSecond: config.billingMaxPerSecond,
    buyersRemorseMs: config.buyersRemorseMs,
    billingWaitMs: config.billingWaitMs,
    journal: { compaction: config.compaction },
    logger,
    ...(config.postgres ? { postgres: { url: config.postgres, prefix: config.postgresPrefix, takeOverAfterMs: config.postgresTakeOverMs } } : {}),
    audit: config.audit,
    ...(config.modules ? { runHere: config.modules } : {}),
    ...(queuesPool
      ? {
          // The queues in PostgreSQL (schema <prefix>_queues), beside the modules' data: nothing else to run.
          transport: postgresTransport({ pool: queuesPool, prefix: config.postgresPrefix, leaseMs: config.postgresLeaseMs, console: config.web }),
          consoleLink: (views) => postgresConsoleLink({ pool: queuesPool, prefix: config.postgresPrefix, console: config.web, views }),
        }
      : config.transport
        ? {
            transport: createAmqpTransport({ url: config.transport, namespace: config.amqpNamespace, console: config.web, connectionName: `${config.amqpNamespace} ${partsText} (pid ${process.pid})` }),
            // The modules report to the console's process, and take its commands, over a link of their own.
            consoleLink: (views) => createAmqpConsoleLink({ url: config.transport!, namespace: config.amqpNamespace, console: config.web, views, connectionName: `${config.amqpNamespace} ${partsText} console link (pid ${process.pid})` }),
          }
        : {}),
  })
} catch (error) {
  exitWith(error)
}
shop.bus.signals.on('bus:error', ({ error, during }) => logger.error(`Error ${during}: ${error instanceof Error ? error.message : String(error)}`))
const report = await startShop()

/**
 * Starts the shop; while PostgreSQL does not answer, says so once and tries again (a database that is
 * still starting, or restarting, is not a reason to exit, nor to print a line a second).
 */
async function startShop(): Promise<Awaited<ReturnType<typeof shop.start>>> {
  let told = false
  for (;;) {
    try {
      return await shop.start()
    } catch (error) {
      if (!(error instanceof PersistenceUnavailableError)) return exitWith(error)
      if (!told) {
        const cause = error.cause instanceof Error ? error.cause.message : String(error.cause)
        console.error(`Cannot reach PostgreSQL at ${error.address} (${cause}). Start it (pg_ctlcluster … main start) or point MAILROOM_POSTGRES_URL (--postgres) at one; trying again every ${config.postgresRetryMs / 1000} s.`)
        told = true
      }
      await new Promise((resolve) => setTimeout(resolve, config.postgresRetryMs))
    }
  }
}
for (const torn of report.tornTails) {
  logger.warn(`Dropped a torn record at the end of ${torn.file} (offset ${torn.offset}, ${torn.droppedBytes} bytes): ${torn.reason}`)
}
/** Where the modules' data is, for the lines below. */
const dataPlace = config.postgres ? `PostgreSQL, schemas ${config.postgresPrefix}_*` : shop.bus.dataDir
if (report.records > 0) logger.info(`Recovered ${report.queued} queued, ${report.delayed} delayed and ${report.failed} failed messages from ${dataPlace}`)

// A broker that does not answer at start is a misconfiguration until shown otherwise: say so and stop,
// rather than run modules that cannot receive anything. (Once running, a lost connection is retried.)
if (shop.bus.admin.transport().kind !== 'embedded') {
  const deadline = Date.now() + config.brokerWaitMs
  while (shop.bus.admin.transport().state !== 'connected' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  const broker = shop.bus.admin.transport()
  if (broker.state !== 'connected') {
    console.error(
      broker.kind === 'postgres'
        ? `Cannot reach PostgreSQL's queues at ${broker.address} (waited ${config.brokerWaitMs / 1000} s${broker.lastError ? `: ${broker.lastError}` : ''}). Start it or point MAILROOM_POSTGRES_URL (--postgres) at one.`
        : `Cannot reach the broker at ${broker.address} (waited ${config.brokerWaitMs / 1000} s). Start RabbitMQ (rabbitmq-server -detached) or point MAILROOM_TRANSPORT (--transport) at one.`,
    )
    // Not shop.stop(): it would wait for the connection it cannot get. Nothing was handled; the lock is the pid's.
    process.exit(2)
  }
}

const transport = shop.bus.admin.transport()
const where = transport.kind === 'embedded' ? '' : ` over ${transport.address}`
/** Where to browse is said even when MAILROOM_LOG_LEVEL hides info lines (then as one plain line on stderr). */
function announce(line: string): void {
  if (logger.isLevelEnabled('info')) logger.info(line)
  else process.stderr.write(`${line}\n`)
}
let app: Awaited<ReturnType<typeof buildApp>> | undefined
if (config.web) {
  app = await buildApp({
    bus: shop.bus,
    logger,
    ...(config.traceUrl ? { traceUrl: config.traceUrl } : {}),
    order: shop.order,
    orders: shop.orders,
    gateway: shop.gateway,
    timesCharged: shop.timesCharged,
    // The rainy day's chain calls a gateway with the shop's own limit (the same outside service).
    rainyDay: { chain: config.gatewayLimitPerSecond === undefined ? {} : { gatewayLimitPerSecond: config.gatewayLimitPerSecond } },
  })
  const address = await app.listen({ host: config.host, port: config.port })
  announce(`Mailroom is running: ${address.replace('127.0.0.1', 'localhost')}${where}  (data in ${dataPlace})`)
} else {
  announce(`Mailroom is running ${shop.bus.moduleNames.join(', ')}${where}  (data in ${dataPlace})`)
}
if (telemetry) logger.info(`OpenTelemetry: exporting as configured by the OTEL_* environment (${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? 'default endpoint'})`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    void (app ? app.close() : Promise.resolve())
      .then(() => shop.stop())
      .then(() => queuesPool?.end())
      // The last spans and metrics are flushed before the process goes.
      .then(() => telemetry?.shutdown())
      .then(() => process.exit(0))
  })
}
