import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, startApp, type AppProcess } from '../../scripts/chaos/app-process.js'
import { startOtlpReceiver } from './support/otlp-receiver.js'
import { clientTraceparent } from './support/traced-shop.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startShop(env: Record<string, string>): Promise<AppProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-otel-'))
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const app = await startApp({ port: await freePort(), dataDir, env: { MAILROOM_BUYERS_REMORSE_MS: '0', ...env } })
  cleanups.push(() => app.kill())
  return app
}

async function placeOrder(app: AppProcess, traceparent?: string): Promise<string> {
  const response = await fetch(`${app.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...(traceparent ? { traceparent } : {}) }, body: JSON.stringify({ items: ['book'] }) })
  expect(response.status).toBe(202)
  const { orderId } = (await response.json()) as { orderId: string }
  await expect.poll(async () => ((await (await fetch(`${app.url}/api/orders/${orderId}`)).json()) as { shipping?: { shipped?: boolean } }).shipping?.shipped, { timeout: 15_000 }).toBe(true)
  return orderId
}

/** The JSON lines of the app's stdout (it is no terminal here). */
function logLines(app: AppProcess): Record<string, unknown>[] {
  return app
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('npm start with the OTEL_* environment', () => {
  it('exports the order’s trace and the bus’s metrics to the OTLP endpoint, and logs JSON lines that carry the trace id', async () => {
    const collector = await startOtlpReceiver()
    cleanups.push(() => collector.close())
    const app = await startShop({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_LOGS_EXPORTER: 'none',
    })
    const client = clientTraceparent()
    const orderId = await placeOrder(app, client.header)

    // 1. The trace reached the collector: the request, and every hop of the order under it.
    const names = () => collector.spans.filter((span) => span.traceId === client.traceId).map((span) => span.name)
    await expect.poll(names, { timeout: 10_000 }).toEqual(expect.arrayContaining(['POST /api/orders', 'send sales', 'process sales', 'publish OrderPlaced', 'process billing', 'publish OrderBilled', 'process shipping', 'publish OrderShipped']))
    const spans = collector.spans.filter((span) => span.traceId === client.traceId)
    const byId = new Map(spans.map((span) => [span.spanId, span]))
    const processSales = spans.find((span) => span.name === 'process sales')!
    expect(byId.get(processSales.parentSpanId)?.name).toBe('send sales')
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['mailroom']))

    // 2. The bus's metrics: every module consumed what the order brought it.
    await expect
      .poll(() => collector.points.filter((point) => point.metric === 'messaging.client.consumed.messages').map((point) => `${point.attributes['messaging.destination.name']}:${point.value}`), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['sales:1', 'billing:1', 'shipping:2']))
    expect(collector.points.some((point) => point.metric === 'messaging.process.duration' && point.attributes['messaging.destination.name'] === 'billing')).toBe(true)

    // 3. Stdout is no terminal: JSON lines; a handler's line names its module, message and trace.
    const billingLine = logLines(app).find((line) => line.module === 'billing' && String(line.msg).includes(orderId))
    expect(billingLine).toMatchObject({ level: 30, messageType: 'OrderPlaced', trace_id: client.traceId })
    expect(billingLine!.messageId).toEqual(expect.any(String))
    expect(billingLine!.conversationId).toEqual(expect.any(String))
  })

  it('starts no SDK without OTEL_* variables: no trace context goes into the messages, no trace id into the lines', async () => {
    const app = await startShop({ MAILROOM_IMMEDIATE_RETRIES: '0', MAILROOM_DELAYED_RETRIES: '0' })
    const client = clientTraceparent()
    // Billing fails every message, so the order's OrderPlaced lands in the error queue, where its headers show.
    await fetch(`${app.url}/api/modules/billing/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: true }) })
    const placed = await fetch(`${app.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent: client.header }, body: JSON.stringify({ items: ['book'] }) })
    expect(placed.status).toBe(202)
    const failed = async () => JSON.stringify(await (await fetch(`${app.url}/api/failed`)).json())
    await expect.poll(failed, { timeout: 10_000 }).toContain('OrderPlaced')
    const listing = await failed()
    expect(listing).toContain('mailroom.message-id')
    expect(listing).not.toContain('traceparent')
    expect(listing).not.toContain(client.traceId)
    const lines = logLines(app).filter((line) => line.module === 'sales')
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(line.trace_id).toBeUndefined()
  })

  it('prints readable lines, not JSON, when stdout is a terminal', async () => {
    // `script` runs npm start's entry point on a pseudo-terminal, as a person's shell would.
    const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-tty-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const port = await freePort()
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
    const child = spawn('script', ['-qfec', `${process.execPath} --import tsx ${main}`, '/dev/null'], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), MAILROOM_DATA_DIR: dataDir, MAILROOM_BUYERS_REMORSE_MS: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let screen = ''
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()))
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    cleanups.push(async () => {
      child.kill('SIGTERM')
      await exited
    })
    // eslint-disable-next-line no-control-regex
    const plain = () => screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
    await expect.poll(plain, { timeout: 20_000 }).toContain('Mailroom is running')
    const response = await fetch(`http://127.0.0.1:${port}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: ['book'] }) })
    const { orderId } = (await response.json()) as { orderId: string }
    await expect.poll(plain, { timeout: 10_000 }).toContain(`[shipping] Shipping order ${orderId}`)
    const line = plain().split('\n').find((text) => text.includes(`[billing] Received OrderPlaced, OrderId = ${orderId}`))!
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[billing\] Received OrderPlaced/)
    expect(line).toMatch(/"messageId":"[0-9a-f-]{36}"/)
    expect(plain()).not.toMatch(/^\{"level"/m)
  })

  it('still says where to browse when MAILROOM_LOG_LEVEL hides info lines: one plain line on stderr', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-quiet-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const port = await freePort()
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), MAILROOM_DATA_DIR: dataDir, MAILROOM_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    cleanups.push(async () => {
      child.kill('SIGTERM')
      await exited
    })
    await expect.poll(() => stderr, { timeout: 20_000 }).toContain(`Mailroom is running: http://localhost:${port}`)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stdout).toBe('')
  })
})
