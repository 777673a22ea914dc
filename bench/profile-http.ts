/** `node --cpu-prof --import tsx bench/profile-http.ts [seconds]`: the shop's POST /api/orders under autocannon, for profiling. */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { createShop } from '../src/shop.js'
import { buildApp } from '../src/web/app.js'

const seconds = Number(process.argv[2] ?? 10)
const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-profile-'))
const shop = createShop({ dataDir, gatewayLimitPerSecond: undefined, billingMaxPerSecond: undefined, buyersRemorseMs: 0 })
await shop.start()
const app = await buildApp({ bus: shop.bus, order: shop.order, orders: shop.orders, gateway: shop.gateway, timesCharged: shop.timesCharged })
const url = await app.listen({ host: '127.0.0.1', port: 0 })
if (process.env.STOPPED) for (const m of ['sales', 'billing', 'shipping']) shop.bus.admin.stopModule(m)
const lag = monitorEventLoopDelay({ resolution: 1 })
lag.enable()
const autocannon = createRequire(import.meta.url).resolve('autocannon/autocannon.js')
const { stdout } = await promisify(execFile)(process.execPath, [autocannon, '--json', '-c', '100', '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', '{"items":["book"]}', `${url}/api/orders`], { maxBuffer: 1 << 24 })
lag.disable()
const result = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number }
const backlog = shop.bus.admin.modules().map((m) => `${m.name} ${m.queueLength}`).join(', ')
console.log(`${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}; loop delay max ${(lag.max / 1e6).toFixed(1)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms; queued at the end: ${backlog}`)
await shop.bus.idle()
await app.close()
await shop.stop()
rmSync(dataDir, { recursive: true, force: true })
