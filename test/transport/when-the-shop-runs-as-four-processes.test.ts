import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { readJournal } from '../../scripts/chaos/reconcile.js'
import { brokerAvailable, closeConnectionsOf } from './support/broker.js'
import { stopFourProcesses, startFourProcesses, running } from './support/four-processes.js'

const available = await brokerAvailable()
afterEach(stopFourProcesses)
async function placeOrders(url: string, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let placed = 0; placed < count; placed += 50) {
    const response = await fetch(`${url}/api/orders/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: Math.min(50, count - placed) }) })
    expect(response.status).toBe(202)
    ids.push(...((await response.json()) as { orderIds: string[] }).orderIds)
  }
  return ids
}

/** How many times each order id was announced by `type`, as the module's journal committed it. */
function published(dataDir: string, module: string, type: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const record of readJournal(join(dataDir, module))) {
    if (record.k !== 'handled') continue
    for (const entry of record.msgs) {
      if (entry.env.type !== type) continue
      const { orderId } = entry.env.body as { orderId: string }
      counts.set(orderId, (counts.get(orderId) ?? 0) + 1)
    }
  }
  return counts
}

const until = (condition: () => boolean, timeoutMs: number, what: () => string) => vi.waitFor(() => expect(condition(), what()).toBe(true), { timeout: timeoutMs, interval: 200 })
const untilAsync = (condition: () => Promise<boolean>, timeoutMs: number) => vi.waitFor(async () => expect(await condition()).toBe(true), { timeout: timeoutMs, interval: 200 })

/**
 * Reads the console's live stream (/api/stream) as a browser would, keeping the latest `snapshot` event's
 * module statuses: what the panels show.
 */
async function watchStream(url: string) {
  const abort = new AbortController()
  const response = await fetch(`${url}/api/stream`, { signal: abort.signal, headers: { accept: 'text/event-stream' } })
  let latest: { name: string; location: string }[] = []
  let buffered = ''
  const reading = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of response.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true })
      let end: number
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const lines = buffered.slice(0, end).split('\n')
        buffered = buffered.slice(end + 2)
        // `field:value`, the space after the colon optional (better-sse writes none).
        const field = (name: string) => lines.filter((line) => line.startsWith(`${name}:`)).map((line) => line.slice(name.length + 1).replace(/^ /, ''))
        if (field('event')[0] !== 'snapshot') continue
        const data = field('data').join('\n')
        latest = (JSON.parse(data) as { modules: { name: string; location: string }[] }).modules
      }
    }
  })().catch(() => {})
  return {
    locationOf: (name: string) => latest.find((module) => module.name === name)?.location,
    async close() {
      abort.abort()
      await reading
    },
  }
}

function expectEachOnce(counts: Map<string, number>, ids: readonly string[]): void {
  expect([...counts.keys()].sort()).toEqual([...ids].sort())
  expect([...counts.values()].filter((count) => count !== 1)).toEqual([])
}

describe.skipIf(!available)('when the shop runs as four processes over RabbitMQ', () => {
  it('ships 1,000 orders placed through the HTTP API, each exactly once, every buyer’s-remorse timeout waiting at the broker', async () => {
    // Sales announces each order when its saga's timeout comes back from the broker's delay queue.
    const { processes, dataDirOf, start } = await startFourProcesses('four', { MAILROOM_BUYERS_REMORSE_MS: '500' })
    const first = (await (await fetch(`${processes.web!.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { orderId: string; conversationId: string }
    const ids = [first.orderId, ...(await placeOrders(processes.web!.url, 999))]
    const shipped = () => published(dataDirOf('shipping'), 'shipping', 'OrderShipped')
    await until(() => shipped().size === 1_000, 120_000, () => `${shipped().size} of 1000 shipped`)
    expectEachOnce(published(dataDirOf('sales'), 'sales', 'OrderPlaced'), ids)
    expectEachOnce(published(dataDirOf('billing'), 'billing', 'OrderBilled'), ids)
    expectEachOnce(shipped(), ids)

    // The console killed and started again: an order's conversation still comes whole, from the modules' audits.
    await processes.web!.kill()
    running.splice(running.indexOf(processes.web!), 1)
    const web = await start('web')
    const whole = ['BuyersRemorseIsOver sales', 'OrderBilled shipping', 'OrderPlaced billing', 'OrderPlaced shipping', 'PlaceOrder sales']
    let handled: string[] = []
    // The first look waits for the processes' reports (5 s at most); on a loaded machine a reload may be needed, as a person would.
    await untilAsync(async () => {
      const conversation = (await (await fetch(`${web.url}/api/conversations/${first.conversationId}`)).json()) as { messages?: { type: string; to: string; outcome: string }[] }
      handled = (conversation.messages ?? []).filter((step) => step.outcome === 'handled').map((step) => `${step.type} ${step.to}`).sort()
      return handled.length === whole.length
    }, 30_000).catch(() => undefined)
    expect(handled).toEqual(whole)
    // And the order list pages over Sales' table, in Sales' process: all 1,000, newest first.
    const listed: string[] = []
    let cursor: string | undefined
    do {
      const page = (await (await fetch(`${web.url}/api/orders?limit=200${cursor ? `&cursor=${cursor}` : ''}`)).json()) as { items: { orderId: string }[]; next?: string }
      listed.push(...page.items.map((item) => item.orderId))
      cursor = page.next
    } while (cursor)
    expect(new Set(listed)).toEqual(new Set(ids))
    expect(listed.at(-1)).toBe(first.orderId)
  }, 180_000)

  it('loses and doubles nothing when Billing is SIGKILLed mid-stream, three times, and started again', async () => {
    const { processes, dataDirOf, start } = await startFourProcesses('kill')
    const billed = () => published(dataDirOf('billing'), 'billing', 'OrderBilled')
    // Orders keep coming while Billing dies and comes back. Each kill can land between a commit and its
    // ack (the broker then delivers the message again): three kills make that likely.
    const placing = placeOrders(processes.web!.url, 1_500)
    let billing = processes.billing!
    const billedAtKills: number[] = []
    for (const threshold of [100, 400, 700]) {
      await until(() => billed().size >= threshold, 60_000, () => `${billed().size} billed`)
      await billing.kill()
      running.splice(running.indexOf(billing), 1)
      billedAtKills.push(billed().size)
      await new Promise((resolve) => setTimeout(resolve, 300))
      billing = await start('billing')
    }
    const ids = await placing
    const shipped = () => published(dataDirOf('shipping'), 'shipping', 'OrderShipped')
    await until(() => shipped().size === 1_500, 120_000, () => `${shipped().size} of 1500 shipped`)
    // The kills came mid-stream: orders were still to be billed each time Billing died.
    expect(billedAtKills.every((count) => count < 1_500)).toBe(true)
    expectEachOnce(billed(), ids)
    expectEachOnce(shipped(), ids)
  }, 180_000)

  it('reconnects when the broker closes every connection mid-stream, and the run completes', async () => {
    const { processes, dataDirOf, namespace } = await startFourProcesses('reconnect')
    const shipped = () => published(dataDirOf('shipping'), 'shipping', 'OrderShipped')
    const placing = placeOrders(processes.web!.url, 1_000)
    await until(() => shipped().size >= 100, 60_000, () => `${shipped().size} shipped`)
    // Sales, Billing, Shipping and the console: at least one connection each.
    expect(await closeConnectionsOf(namespace)).toBeGreaterThanOrEqual(4)
    // Orders placed after the broker hung up travel over the new connections.
    const ids = [...(await placing), ...(await placeOrders(processes.web!.url, 500))]
    await until(() => shipped().size === 1_500, 120_000, () => `${shipped().size} of 1500 shipped`)
    expectEachOnce(published(dataDirOf('billing'), 'billing', 'OrderBilled'), ids)
    expectEachOnce(shipped(), ids)
    // The console reports the connection as it is now, and what went wrong last.
    let transport: { state?: string; lastError?: string } = {}
    await untilAsync(async () => {
      transport = (await (await fetch(`${processes.web!.url}/api/transport`)).json()) as typeof transport
      return transport.state === 'connected'
    }, 10_000)
    expect(transport).toMatchObject({ kind: 'amqp', state: 'connected', unconfirmed: 0 })
    expect(transport.lastError).toContain('CONNECTION_FORCED')
  }, 180_000)

  it('keeps the live stream current when a module in another process stops reporting and comes back, with nothing else happening', async () => {
    const { processes, start } = await startFourProcesses('stream')
    const stream = await watchStream(processes.web!.url)
    try {
      // A module's reports carry no log line while it is idle: only its status says it is there.
      await until(() => stream.locationOf('sales') === 'elsewhere', 15_000, () => `sales is ${stream.locationOf('sales')}`)
      await processes.sales!.kill()
      await until(() => stream.locationOf('sales') === 'stale', 15_000, () => `sales is ${stream.locationOf('sales')}`)
      await start('sales')
      await until(() => stream.locationOf('sales') === 'elsewhere', 15_000, () => `sales is ${stream.locationOf('sales')}`)
    } finally {
      await stream.close()
    }
  }, 60_000)

  it('shows every module in the console, parks a poison message in the broker’s error queue, and a retry from the console lets it flow on', async () => {
    const { processes, dataDirOf } = await startFourProcesses('poison')
    const web = processes.web!.url
    const json = async (path: string, body?: unknown) => {
      const response = await fetch(`${web}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      expect(response.status).toBeLessThan(300)
      return response.json()
    }
    type Status = { name: string; location: string; faultInjected: boolean; errorQueueLength: number }
    const modules = async () => (await json('/api/modules')) as Status[]
    await untilAsync(async () => (await modules()).filter((module) => module.location === 'elsewhere').length === 3, 15_000)

    // A person injects a fault in Billing from the console, in another process.
    await json('/api/modules/billing/fault', { on: true })
    await untilAsync(async () => (await modules()).find((module) => module.name === 'billing')!.faultInjected, 10_000)
    const ids = await placeOrders(web, 3)
    const failedCount = async () => ((await json('/api/failed')) as { groups: { count: number }[] }).groups.reduce((sum, group) => sum + group.count, 0)
    await untilAsync(async () => (await failedCount()) === 3, 30_000)
    expect((await modules()).find((module) => module.name === 'billing')!.errorQueueLength).toBe(3)

    await json('/api/modules/billing/fault', { on: false })
    await untilAsync(async () => !(await modules()).find((module) => module.name === 'billing')!.faultInjected, 10_000)
    expect(((await json('/api/failed/retry', { all: true })) as { retried: string[] }).retried).toHaveLength(3)
    const shipped = () => published(dataDirOf('shipping'), 'shipping', 'OrderShipped')
    await until(() => shipped().size === 3, 30_000, () => `${shipped().size} of 3 shipped`)
    expectEachOnce(shipped(), ids)
    expectEachOnce(published(dataDirOf('billing'), 'billing', 'OrderBilled'), ids)
    expect(await failedCount()).toBe(0)
  }, 120_000)

  it('shows each process of a module that runs twice, and the module’s totals over them', async () => {
    const { processes, dataDirOf, start } = await startFourProcesses('twice')
    await start('billing', 'billing-2')
    const ids = await placeOrders(processes.web!.url, 200)
    const shipped = () => published(dataDirOf('shipping'), 'shipping', 'OrderShipped')
    await until(() => shipped().size === 200, 60_000, () => `${shipped().size} of 200 shipped`)
    // Both Billing processes compete on one queue: their OrderBilled together bill each order once.
    const billed = new Map<string, number>()
    for (const dir of ['billing', 'billing-2']) for (const [orderId, count] of published(dataDirOf(dir), 'billing', 'OrderBilled')) billed.set(orderId, (billed.get(orderId) ?? 0) + count)
    expectEachOnce(billed, ids)
    type Status = { name: string; handled: number; instances?: { id: string; handled: number; reporting: boolean }[] }
    let billing: Status | undefined
    await untilAsync(async () => {
      const modules = (await (await fetch(`${processes.web!.url}/api/modules`)).json()) as Status[]
      billing = modules.find((module) => module.name === 'billing')
      return billing?.instances?.length === 2 && billing.handled === 200
    }, 20_000).catch(() => undefined)
    expect(billing?.instances).toHaveLength(2)
    expect(billing?.instances?.every((instance) => instance.reporting)).toBe(true)
    expect(billing?.handled).toBe(200)
    expect(billing!.instances!.reduce((total, instance) => total + instance.handled, 0)).toBe(200)
    // The panel lists both.
    const page = await (await fetch(`${processes.web!.url}/`)).text()
    const panel = page.slice(page.indexOf('data-module="billing"'), page.indexOf('</article>', page.indexOf('data-module="billing"')))
    const list = /<ul class="instances"([^>]*)>([\s\S]*?)<\/ul>/.exec(panel)
    expect(list?.[1]).not.toContain('hidden')
    expect(list?.[2]?.match(/<li/g)).toHaveLength(2)
  }, 120_000)
})
