import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import { PlaceOrder } from '../../src/modules/sales/messages.js'
import { createShop } from '../../src/shop.js'
import { buildApp } from '../../src/web/app.js'
import { median, percentile, perSecond, type Scenario, type ScenarioResult } from '../harness.js'

const autocannonCli = createRequire(import.meta.url).resolve('autocannon/autocannon.js')

/**
 * autocannon in a second process, so the load generator does not take the server's CPU (in-process it
 * halved the bare Fastify figure on this 2-core machine).
 */
async function load(url: string, seconds: number, body: string) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [autocannonCli, '--json', '-c', '100', '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', body, url],
    { maxBuffer: 16 * 1024 * 1024 },
  )
  const result = JSON.parse(stdout) as { non2xx: number; errors: number; requests: { average: number; total: number }; latency: { p99: number } }
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors from ${url}`)
  return { rate: result.requests.average, p99: result.latency.p99, requests: result.requests.total }
}

/**
 * The event loop's busy time (µs) per unit of work done while `work` runs. The server's JavaScript runs on
 * one thread, so this is what each request or order costs where the HTTP answers and the modules compete:
 * 1,000,000 / (busy µs per request) is the most requests a second that thread can serve.
 */
async function loopBusy<T>(work: () => Promise<T>): Promise<{ result: T; busyMs: number }> {
  const before = performance.eventLoopUtilization()
  const result = await work()
  return { result, busyMs: performance.eventLoopUtilization(before).active }
}

const microsEach = (busyMs: number, count: number) => Math.round((busyMs * 1000) / count)

async function bareFastify(seconds: number) {
  const app = Fastify()
  app.post('/orders', async (_request, reply) => reply.code(202).send({ accepted: true }))
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const { result, busyMs } = await loopBusy(() => load(`${url}/orders`, seconds, '{}'))
  await app.close()
  return { ...result, busyMicros: microsEach(busyMs, result.requests) }
}

function durableShop() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-bench-'))
  const shop = createShop({ dataDir, gatewayLimitPerSecond: undefined, billingMaxPerSecond: undefined, buyersRemorseMs: 0 })
  return { shop, dataDir }
}

/**
 * `acceptOnly` stops the modules first: the answer then costs only what the API does (validate, journal,
 * fsync, 202), without Sales, Billing and Shipping handling every order in the same process meanwhile.
 * With the modules running, the busy time is counted until every accepted order has been worked off.
 */
async function shopOverHttp(seconds: number, acceptOnly = false) {
  const { shop, dataDir } = durableShop()
  await shop.start()
  if (acceptOnly) for (const module of shop.bus.moduleNames) shop.bus.admin.stopModule(module)
  const app = await buildApp({ bus: shop.bus, order: shop.order, orders: shop.orders, gateway: shop.gateway, timesCharged: shop.timesCharged })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const { result, busyMs } = await loopBusy(async () => {
    const answered = await load(`${url}/api/orders`, seconds, '{"items":["book"]}')
    if (!acceptOnly) await shop.bus.idle()
    return answered
  })
  await app.close()
  await shop.stop()
  rmSync(dataDir, { recursive: true, force: true })
  return { ...result, busyMicros: microsEach(busyMs, result.requests) }
}

/** Orders through all three modules, durable, gateway limit off: shipped per second and critical time. */
async function fullyShipped(count: number) {
  const { shop, dataDir } = durableShop()
  await shop.start()
  const sentAt = new Map<string, number>()
  const shippingSeen = new Map<string, number>()
  const latencies: number[] = []
  shop.bus.signals.on('message:handled', (signal) => {
    if (signal.module !== 'shipping') return
    const seen = (shippingSeen.get(signal.conversationId) ?? 0) + 1
    shippingSeen.set(signal.conversationId, seen)
    // Shipping gets OrderPlaced and OrderBilled; the order ships with the second.
    if (seen === 2) latencies.push(performance.now() - sentAt.get(signal.conversationId)!)
  })
  const started = performance.now()
  let next = 0
  const sender = async () => {
    while (next < count) {
      const n = next++
      const at = performance.now()
      const { conversationId } = await shop.bus.send(PlaceOrder, { orderId: `b-${n}`, items: ['book'] })
      sentAt.set(conversationId, at)
    }
  }
  const { busyMs } = await loopBusy(async () => {
    await Promise.all(Array.from({ length: 100 }, sender))
    await shop.bus.idle()
  })
  const rate = perSecond(latencies.length, performance.now() - started)
  const busyMicros = microsEach(busyMs, count)
  await shop.stop()
  rmSync(dataDir, { recursive: true, force: true })
  if (latencies.length !== count) throw new Error(`${latencies.length} of ${count} orders shipped`)
  return { rate, p50: percentile(latencies, 50), p99: percentile(latencies, 99), busyMicros }
}

export const httpScenarios: Scenario = async ({ quick, rounds: n }) => {
  const seconds = quick ? 3 : 20
  const results: ScenarioResult[] = []
  const bare = []
  for (let i = 0; i < n; i++) bare.push(await bareFastify(quick ? 2 : 10))
  results.push({ name: 'ref: bare Fastify POST 202', unit: 'req/s', rounds: bare.map((r) => r.rate), extra: { 'p99 ms': Math.max(...bare.map((r) => r.p99)), 'loop µs/req': median(bare.map((r) => r.busyMicros)) } })
  const shop = []
  for (let i = 0; i < n; i++) shop.push(await shopOverHttp(seconds))
  results.push({
    name: 'shop: POST /api/orders (durable)',
    unit: 'req/s',
    rounds: shop.map((r) => r.rate),
    reference: 'ref: bare Fastify POST 202',
    target: '>= 0.6x bare; p99 <= 20 ms',
    extra: { 'p99 ms': Math.max(...shop.map((r) => r.p99)), 'loop µs/req': median(shop.map((r) => r.busyMicros)) },
  })
  const accepted = []
  for (let i = 0; i < n; i++) accepted.push(await shopOverHttp(seconds, true))
  results.push({
    name: 'shop: POST /api/orders, modules stopped',
    unit: 'req/s',
    rounds: accepted.map((r) => r.rate),
    reference: 'ref: bare Fastify POST 202',
    extra: { 'p99 ms': Math.max(...accepted.map((r) => r.p99)), 'loop µs/req': median(accepted.map((r) => r.busyMicros)) },
  })
  const shipped = []
  for (let i = 0; i < n; i++) shipped.push(await fullyShipped(quick ? 2_000 : 20_000))
  results.push({
    name: 'shop: orders fully shipped',
    unit: 'orders/s',
    rounds: shipped.map((r) => r.rate),
    target: '>= 5,000 orders/s',
    extra: { 'p50 ms': Number(Math.max(...shipped.map((r) => r.p50)).toFixed(1)), 'p99 ms': Number(Math.max(...shipped.map((r) => r.p99)).toFixed(1)), 'loop µs/order': median(shipped.map((r) => r.busyMicros)) },
  })
  return results
}
