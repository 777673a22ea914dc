import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort, startApp, type AppProcess } from './app-process.js'
import { createTcpProxy, type TcpProxy } from './tcp-proxy.js'
import { checkWhatPeopleSee, type WhatPeopleSee } from './what-people-see.js'

/**
 * The shop scaled out: RabbitMQ carries the messages, PostgreSQL keeps every module's data, and the shop
 * runs as six processes through `npm start`'s entry point: sales, billing ×2, shipping ×2 and web.
 * Orders are placed one by one over HTTP while instances are SIGKILLed and started again (each Billing
 * instance at least once); then every order answered 202 is checked, in the database and through the
 * console's HTTP API: shipped once, charged once, billed once, listed once, its conversation complete.
 */
export interface ScaledOutOptions {
  orders: number
  /** SIGKILLs during the load: the first two are the two Billing instances (in random order), the rest random instances. */
  kills: number
  ratePerSecond: number
  /** RabbitMQ's URL, or `postgres`: the queues in PostgreSQL too, nothing else running. */
  brokerUrl: string
  postgresUrl: string
  /** The broker's namespace and the schemas' prefix: apart from every other run. */
  namespace: string
  prefix: string
  /** Whether the web process may be among the random kills (its 202s are then cut off mid-answer). @default false */
  killWeb?: boolean
  drainTimeoutMs: number
  log: (line: string) => void
  /**
   * PostgreSQL goes away mid-stream at this order, for `downMs`: `proxy` puts a TCP proxy between the shop and
   * the server and cuts it (every connection dropped, new ones refused: what a restart looks like from the
   * shop, without touching the server others use); `restart` restarts the local cluster (pg_ctlcluster).
   */
  postgresOutage?: { atOrder: number; downMs: number; how: 'proxy' | 'restart' }
}

export interface ScaledOutSummary {
  ok: boolean
  accepted: number
  /** Orders refused or cut off (the web process was down, or killed mid-answer). */
  refused: number
  shipped: number
  /**
   * Shipped without a 202: the web process was killed after committing, before answering, or the database
   * went away as the send committed (its answer lost, the client told it failed). Allowed in those runs only.
   */
  shippedUnacknowledged: number
  /** Orders answered 202 and not shipped once the run drained. */
  missing: string[]
  /** Messages in the error queue (kept for people, not lost) with their reasons. */
  failed: { type: string; reason: string }[]
  /** Orders with more than one OrderBilled (two charges' worth of messages) or more than one OrderShipped. */
  billedTwice: string[]
  shippedTwice: string[]
  /** Orders the gateway charged more than once, or never though shipped. */
  chargedTwice: string[]
  notCharged: string[]
  gatewayRepeats: number
  kills: { instance: string; atOrder: number }[]
  /** When PostgreSQL went away and came back, if it did. */
  outage?: { atOrder: number; downMs: number; how: string }
  seen: Omit<WhatPeopleSee, 'gateway'>
  /** Instances whose process had exited at the end though the run did not kill it (it stopped by itself). */
  exitedByThemselves: string[]
  /** The console's module panels (GET /api/modules) at the end: where each module runs, how many of its processes report. */
  console: { name: string; location: string; reporting: number }[]
  durationMs: number
}

const instances = ['sales', 'billing-1', 'billing-2', 'shipping-1', 'shipping-2'] as const
const partOf = (instance: string) => instance.replace(/-\d+$/, '')

/** The six processes of the scaled-out shop, started through `npm start`'s entry point. */
export interface ScaledOutShop {
  readonly webUrl: string
  /** Each instance's process, by name (`sales`, `billing-1`, …, `web`). */
  readonly running: Map<string, AppProcess>
  /** Starts `instance` (again, after a kill). */
  start(instance: string): Promise<void>
  /** Kills what runs and removes the data directories. */
  stop(): Promise<void>
}

/** Starts sales, billing ×2, shipping ×2 and web on `brokerUrl` and PostgreSQL at `postgresUrl` (the shop's view of it: a proxy's address, say). */
export async function startScaledOutShop(options: { brokerUrl: string; postgresUrl: string; namespace: string; prefix: string }): Promise<ScaledOutShop> {
  const root = mkdtempSync(join(tmpdir(), 'mailroom-scaled-'))
  const env = {
    MAILROOM_TRANSPORT: options.brokerUrl,
    MAILROOM_AMQP_NAMESPACE: options.namespace,
    MAILROOM_POSTGRES_URL: options.postgresUrl,
    MAILROOM_POSTGRES_PREFIX: options.prefix,
    MAILROOM_BUYERS_REMORSE_MS: '0',
    MAILROOM_GATEWAY_LIMIT: 'off',
    MAILROOM_BILLING_RATE: 'off',
    MAILROOM_BILLING_WAIT_MS: '600000',
    // Delayed retries outlast a database outage of a few seconds (1 + 2 + 4 s): a handler's call to the
    // gateway, whose memory is in PostgreSQL too, fails while it is away.
    MAILROOM_RETRY_BASE_MS: '1000',
    MAILROOM_DELAYED_RETRIES: '3',
    // A message whose writer lost it (killed, or its commit's answer cut off) is sent by another process after 5 s.
    MAILROOM_POSTGRES_TAKEOVER_MS: '5000',
    // With the queues in PostgreSQL: a killed instance's messages are delivered again 5 s after it took them.
    MAILROOM_POSTGRES_LEASE_MS: '5000',
  }
  const webPort = await freePort()
  const running = new Map<string, AppProcess>()
  async function start(instance: string): Promise<void> {
    const part = partOf(instance)
    // An instance killed twice before its first restart is restarted twice: the first of those is killed
    // here, or it would outlive the run (and keep polling, and holding connections).
    await running.get(instance)?.kill()
    const app = await startApp({ port: part === 'web' ? webPort : 0, dataDir: join(root, instance), env, args: ['--modules', part] })
    // A restart that finished after the run stopped (it broke off): not left running.
    if (stopped) return app.kill()
    running.set(instance, app)
  }
  let stopped = false
  const shop: ScaledOutShop = {
    webUrl: `http://127.0.0.1:${webPort}`,
    running,
    start,
    async stop() {
      stopped = true
      for (const app of running.values()) await app.kill()
      running.clear()
      rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    // Together: each spends most of its start in loading its code, which the others need not wait for.
    await Promise.all([...instances, 'web'].map(start))
  } catch (error) {
    await shop.stop()
    throw error
  }
  return shop
}

export async function runScaledOut(options: ScaledOutOptions): Promise<ScaledOutSummary> {
  const started = performance.now()
  const outage = options.postgresOutage
  const target = new URL(options.postgresUrl)
  const proxy = outage?.how === 'proxy' ? await createTcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5432) }) : undefined
  await proxy?.up()
  const shopUrl = new URL(options.postgresUrl)
  if (proxy) {
    shopUrl.hostname = '127.0.0.1'
    shopUrl.port = String(proxy.port)
  }
  const pool = new pg.Pool({ connectionString: options.postgresUrl, max: 2 })
  let shop: ScaledOutShop | undefined
  try {
    shop = await startScaledOutShop({ ...options, postgresUrl: shopUrl.href })
    const { running, start } = shop
    const web = shop.webUrl
    options.log(`six processes running (web at ${web}) after ${((performance.now() - started) / 1000).toFixed(1)} s; placing ${options.orders} orders at ${options.ratePerSecond}/s with ${options.kills} kills`)

    // Kills at even steps through the load; the two Billing instances first, in random order.
    const billings = Math.random() < 0.5 ? ['billing-1', 'billing-2'] : ['billing-2', 'billing-1']
    const victims = options.killWeb ? [...instances, 'web'] : [...instances]
    const planned = Array.from({ length: options.kills }, (_, index) => ({
      instance: billings[index] ?? victims[Math.floor(Math.random() * victims.length)]!,
      atOrder: Math.floor(((index + 1) * options.orders) / (options.kills + 1)),
    }))
    const kills: ScaledOutSummary['kills'] = []
    let restarting: Promise<void> = Promise.resolve()

    const accepted: string[] = []
    let refused = 0
    let next = 0
    const intervalMs = 1000 / options.ratePerSecond
    const loadStarted = performance.now()
    async function place(): Promise<void> {
      try {
        const response = await fetch(`${web}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(10_000) })
        if (response.status === 202) accepted.push(((await response.json()) as { orderId: string }).orderId)
        else refused++
      } catch {
        refused++
      }
    }
    const inFlight = new Set<Promise<void>>()
    let outageDone: Promise<void> = Promise.resolve()
    let outageStarted = false
    while (next < options.orders) {
      if (outage && !outageStarted && next >= outage.atOrder) {
        outageStarted = true
        options.log(`order ${next}: PostgreSQL goes away for ${outage.downMs} ms (${outage.how})`)
        outageDone = takePostgresAway(outage, proxy).then(() => options.log('PostgreSQL is back'))
      }
      const kill = planned[0]
      if (kill && next >= kill.atOrder) {
        planned.shift()
        kills.push(kill)
        options.log(`order ${next}: SIGKILL ${kill.instance}`)
        const victim = running.get(kill.instance)!
        await victim.kill()
        // Started again after a moment, while the load goes on.
        restarting = restarting.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1_000))
          await start(kill.instance)
          options.log(`${kill.instance} started again`)
        })
      }
      // Paced to the rate, at most 64 requests open at once.
      const due = loadStarted + next * intervalMs
      const wait = due - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      if (inFlight.size >= 64) await Promise.race(inFlight)
      const request = place().finally(() => inFlight.delete(request))
      inFlight.add(request)
      next++
    }
    await Promise.all(inFlight)
    await restarting
    await outageDone
    options.log(`${accepted.length} accepted, ${refused} refused, ${((performance.now() - started) / 1000).toFixed(1)} s after the start; waiting for every order to ship`)
    if (refused > 0) options.log(`the web process said:\n${running.get('web')!.errors().split('\n').slice(-15).join('\n')}`)

    const schema = (module: string) => `"${options.prefix}_${module}"`
    const shippedIds = async () =>
      new Set((await pool.query<{ key: string }>(`SELECT key FROM ${schema('shipping')}.documents WHERE table_name = 'shipments' AND doc ? 'shippedAt'`)).rows.map((row) => row.key))
    const deadline = Date.now() + options.drainTimeoutMs
    let shipped = await shippedIds()
    while (accepted.some((orderId) => !shipped.has(orderId)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      shipped = await shippedIds()
    }

    options.log(`${shipped.size} shipped, ${((performance.now() - started) / 1000).toFixed(1)} s after the start`)
    /** How many messages of `type` the module's outbox holds per order (each is one the module committed). */
    const perOrder = async (module: string, type: string) => {
      const { rows } = await pool.query<{ order_id: string; n: string }>(
        `SELECT envelope->'body'->>'orderId' AS order_id, count(DISTINCT message_id) AS n FROM ${schema(module)}.outbox WHERE envelope->>'type' = $1 GROUP BY 1`,
        [type],
      )
      return new Map(rows.map((row) => [row.order_id, Number(row.n)]))
    }
    const billed = await perOrder('billing', 'OrderBilled')
    const shippedEvents = await perOrder('shipping', 'OrderShipped')
    const charges = await pool.query<{ order_id: string; n: string; repeats: string }>(`SELECT order_id, count(*) AS n, sum(repeats) AS repeats FROM "${options.prefix}_payment_gateway".charges GROUP BY 1`)
    const charged = new Map(charges.rows.map((row) => [row.order_id, Number(row.n)]))
    const acceptedSet = new Set(accepted)
    const missing = accepted.filter((orderId) => !shipped.has(orderId))
    const seen = await checkWhatPeopleSee(web, accepted.filter((orderId) => shipped.has(orderId)), { gateway: false })
    const consoleModules = await modulesAsTheConsoleShows(web)
    const failedGroups = (await (await fetch(`${web}/api/failed`)).json()) as { groups: { exceptionType: string; message: string; messages: { type: string }[] }[] }
    const failed = failedGroups.groups.flatMap((group) => group.messages.map((message) => ({ type: message.type, reason: `${group.exceptionType}: ${group.message}` })))
    const summary: ScaledOutSummary = {
      ok: false,
      accepted: accepted.length,
      refused,
      shipped: shipped.size,
      shippedUnacknowledged: [...shipped].filter((orderId) => !acceptedSet.has(orderId)).length,
      missing,
      failed,
      billedTwice: [...billed].filter(([, n]) => n > 1).map(([orderId]) => orderId),
      shippedTwice: [...shippedEvents].filter(([, n]) => n > 1).map(([orderId]) => orderId),
      chargedTwice: [...charged].filter(([, n]) => n > 1).map(([orderId]) => orderId),
      notCharged: [...shipped].filter((orderId) => !charged.has(orderId)),
      gatewayRepeats: charges.rows.reduce((sum, row) => sum + Number(row.repeats), 0),
      kills,
      ...(outage ? { outage: { atOrder: outage.atOrder, downMs: outage.downMs, how: outage.how } } : {}),
      seen: { unlisted: seen.unlisted, wrongState: seen.wrongState, incompleteConversations: seen.incompleteConversations, billed: seen.billed },
      console: consoleModules,
      exitedByThemselves: [...running].filter(([, app]) => !app.alive()).map(([instance]) => instance),
      durationMs: performance.now() - started,
    }
    // Why a process stopped by itself: its last words (stderr, then the tail of its log).
    for (const instance of summary.exitedByThemselves) {
      const app = running.get(instance)!
      options.log(`${instance} stopped by itself; it said:\n${app.errors().split('\n').slice(-20).join('\n')}\n${app.output().split('\n').slice(-15).join('\n')}`)
    }
    summary.ok =
      summary.exitedByThemselves.length === 0 &&
      summary.missing.length === 0 &&
      summary.failed.length === 0 &&
      summary.billedTwice.length === 0 &&
      summary.shippedTwice.length === 0 &&
      summary.chargedTwice.length === 0 &&
      summary.notCharged.length === 0 &&
      seen.unlisted.length === 0 &&
      seen.wrongState.length === 0 &&
      seen.incompleteConversations.length === 0 &&
      // Allowed only when the web process was killed mid-answer: the order committed, its 202 never sent. A
      // database away for a moment is not a reason: a send whose commit's answer it cut off asks it once back.
      (options.killWeb || summary.shippedUnacknowledged === 0)
    return summary
  } catch (error) {
    // What the processes said, for whoever reads why the run broke off.
    for (const [instance, app] of shop?.running ?? []) options.log(`${instance} said:\n${app.errors().split('\n').slice(-20).join('\n')}`)
    throw error
  } finally {
    await shop?.stop()
    await proxy?.close()
    await pool.end()
  }
}

/** Takes PostgreSQL away for `downMs` and brings it back (see ScaledOutOptions.postgresOutage). */
async function takePostgresAway(outage: NonNullable<ScaledOutOptions['postgresOutage']>, proxy: TcpProxy | undefined): Promise<void> {
  if (outage.how === 'proxy') {
    await proxy!.down()
    await new Promise((resolve) => setTimeout(resolve, outage.downMs))
    await proxy!.up()
    return
  }
  const run = promisify(execFile)
  const version = readdirSync('/etc/postgresql')[0]!
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop', '--mode', 'fast'])
  await new Promise((resolve) => setTimeout(resolve, outage.downMs))
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'])
}

/**
 * The console's module panels once every process reports (each instance's report reaches the web process
 * within a few seconds of its start), at most 15 s: where each module runs, how many processes report it.
 */
async function modulesAsTheConsoleShows(web: string): Promise<ScaledOutSummary['console']> {
  type Panel = { name: string; location: string; instances?: { reporting: boolean }[] }
  const read = async () =>
    ((await (await fetch(`${web}/api/modules`)).json()) as Panel[]).map((panel) => ({ name: panel.name, location: panel.location, reporting: panel.instances?.filter((instance) => instance.reporting).length ?? 0 }))
  const expected = new Map(instances.map((instance) => [partOf(instance), instances.filter((other) => partOf(other) === partOf(instance)).length]))
  const deadline = Date.now() + 15_000
  let modules = await read()
  while (Date.now() < deadline && [...expected].some(([name, count]) => modules.find((module) => module.name === name)?.reporting !== count)) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    modules = await read()
  }
  return modules
}
