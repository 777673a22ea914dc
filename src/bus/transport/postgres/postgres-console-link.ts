import pg from 'pg'
import type { ConsoleLink, ModuleViews, RemoteModules } from '../../console-link/console-link.js'
import { applyCommand, reportOf, watchRemoteModules, type StatusReport } from '../../console-link/remote-view.js'
import { InvalidBusOptionError } from '../../errors.js'
import { asPersistenceError, postgresAddress } from '../../persistence/postgres/database-errors.js'
import { guardPool } from './pool-guards.js'
import { listenForOutsideSends } from '../../persistence/postgres/outside-listener.js'
import { identifier } from '../../persistence/postgres/schema.js'
import { migrateUntilDone, queueSchema } from './queue-schema.js'
import { controlChannelOf, deleteOldReports, insertReport, newReports, notifyCommand, queueLengths } from './queue-statements.js'

export interface PostgresConsoleLinkOptions {
  /** The server, e.g. `postgres://user@127.0.0.1:5432/shop`. Either this or `pool`. */
  connectionString?: string
  /** A pool of your own (the link does not end it). */
  pool?: pg.Pool
  /** The transport's prefix: the reports live beside its queues. @default 'mailroom' */
  prefix?: string
  /** This process hosts the console: it reads every process's reports and sends people's commands. @default false */
  console?: boolean
  /** This process's answers to a console's questions about a key, per module (the shop: its orders). */
  views?: ModuleViews
  /** How often reports are written and read (ms). @default 1000 */
  everyMs?: number
}

/**
 * The console link over PostgreSQL, for a shop whose processes share nothing but the database: each
 * process writes a report of its modules once a second into `<prefix>_queues.reports`, and LISTENs for a
 * person's commands (a NOTIFY on `<prefix>_control`); the console's process reads the new reports once a
 * second and sends the commands. Old reports are deleted after half a minute.
 */
export function postgresConsoleLink(options: PostgresConsoleLinkOptions): ConsoleLink {
  if (!options?.pool && typeof options?.connectionString !== 'string') throw new InvalidBusOptionError('consoleLink.connectionString', 'a PostgreSQL URL (or pass pool)', options?.connectionString)
  const prefix = options.prefix ?? 'mailroom'
  const schema = queueSchema(prefix)
  const channel = controlChannelOf(prefix)
  const everyMs = options.everyMs ?? 1_000
  // A pool given says where it connects (pg keeps its options), without the password.
  const connectsTo = options.connectionString ?? (options.pool as { options?: { connectionString?: string } } | undefined)?.options?.connectionString
  const address = connectsTo ? postgresAddress(connectsTo) : 'PostgreSQL (the pool given)'
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: 2, connectionTimeoutMillis: 10_000 })
  const unguard = guardPool(pool, () => {})
  const timers: NodeJS.Timeout[] = []
  const stops: (() => Promise<void> | void)[] = []
  let remote: RemoteModules | undefined
  /** Whether the last statement reached the database (the console's commands wait for it). */
  let up = false
  let stopped = false
  /** Runs `work` every `ms`, never two at once (a slow database makes a round wait, not pile up). */
  const every = (ms: number, work: () => Promise<unknown>) => {
    let busy = false
    const timer = setInterval(() => {
      if (busy) return
      busy = true
      void work()
        .then(() => (up = true), () => (up = false))
        .finally(() => (busy = false))
    }, ms)
    timer.unref()
    timers.push(timer)
  }
  return {
    views: options.views ?? {},
    get remoteModules() {
      return remote
    },
    async start(node) {
      // A database that is away is waited for in the background (its reports and reads fail until then, and
      // are tried again every second); queues a newer Mailroom wrote fail the start.
      const migrated = migrateUntilDone(pool, prefix, () => stopped, (error) => node.onError(asPersistenceError(error, address), "creating the console link's table in PostgreSQL (tried again every second)"))
      try {
        await Promise.race([migrated, new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
      } catch (error) {
        throw asPersistenceError(error, address)
      }
      migrated.then(
        () => (up = true),
        (error: unknown) => node.onError(asPersistenceError(error, address), "creating the console link's table in PostgreSQL"),
      )
      if (node.localModules.length > 0) {
        every(everyMs, () => pool.query(insertReport(schema), [JSON.stringify(reportOf(node))]))
        const listener = listenForOutsideSends({ connect: () => pool.connect(), channel: identifier(channel), onNotify: (payload) => applyParsed(payload, (command) => applyCommand(node, command)), onListening: () => {}, retryAfterMs: 1_000 })
        stops.push(() => listener.stop())
      }
      if (options.console) {
        const view = watchRemoteModules(
          node,
          {
            ready: () => up,
            command: async (command) => void (await pool.query(notifyCommand(), [channel, JSON.stringify(command)])),
            queueLengths: async (modules) => {
              const { rows } = await pool.query<{ queue: string; n: number }>(queueLengths(schema))
              const lengths: Record<string, number> = Object.fromEntries(modules.map((module) => [module, 0]))
              for (const { queue, n } of rows) if (queue in lengths) lengths[queue] = n
              return lengths
            },
          },
          everyMs,
        )
        remote = view.remote
        stops.push(() => view.stop())
        let last: string | null = null
        every(everyMs, async () => {
          const { rows } = await pool.query<{ id: string; report: StatusReport }>(newReports(schema), [last])
          for (const row of rows) view.onReport(row.report)
          if (rows.length > 0) last = rows.at(-1)!.id
        })
        every(10_000, () => pool.query(deleteOldReports(schema)))
      }
    },
    async stop() {
      stopped = true
      for (const timer of timers) clearInterval(timer)
      for (const stop of stops) await stop()
      unguard()
      if (!options.pool) await pool.end()
    },
  }
}

/** A command's JSON, applied if it parses (a NOTIFY from something else on the channel is ignored). */
function applyParsed(payload: string | undefined, apply: (command: unknown) => void): void {
  if (!payload) return
  try {
    apply(JSON.parse(payload))
  } catch {
    // Not a command: ignored.
  }
}
