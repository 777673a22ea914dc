import Fastify, { type FastifyInstance } from 'fastify'
import pRetry from 'p-retry'

/**
 * The talk's rainy day: the same shop as a chain of synchronous HTTP calls, every service waiting on the
 * next (client → sales → billing → payment gateway → shipping), in this process, over real HTTP on
 * loopback. Billing calls the gateway through a retry with backoff, as a resilience library (the talk's
 * Polly) would: a call that times out is tried again, blindly.
 *
 * The gateway is the same kind of outside service as the messaging shop's (rate-limited), and slow under
 * load: its latency grows with the requests it is working on. It finishes what it started even when its
 * caller gave up, so a retry after a timeout can take the money twice. That is the point of the page.
 */
export interface SyncChainOptions {
  /** Charges the gateway takes per second; more are refused with 429. @default 100 */
  gatewayLimitPerSecond?: number
  /**
   * The gateway's latency: this much, plus `gatewayMsPerRequestInFlight` for each request it is working on.
   * With the defaults, 50 clients at once push it past the 200 ms callers wait (measured: of 200 orders,
   * about 60 shipped and about 90 charged twice; with a faster gateway the 429s dominate and nobody is
   * charged twice).
   * @default 100
   */
  gatewayBaseMs?: number
  /** @default 5 */
  gatewayMsPerRequestInFlight?: number
  /** How long each service waits for the next before it gives up on a call. @default 200 */
  callTimeoutMs?: number
  /** Billing's retries of a failed or timed-out gateway call (backoff 50 ms, doubling). @default 3 */
  retries?: number
}

export interface SyncChain {
  /** Where the client sends its orders: `POST {url}/sales/orders` with `{ orderId }`. */
  readonly url: string
  /** Money the gateway took, per order; an order charged twice has 2 here. */
  readonly charges: ReadonlyMap<string, number>
  readonly shipped: ReadonlySet<string>
  /** Charges the gateway is still working on (it finishes them after their callers gave up). */
  readonly gatewayInFlight: number
  /** A person stops a service (its calls answer 503) or starts it again. */
  setStopped(service: 'sales' | 'billing' | 'shipping', stopped: boolean): void
  close(): Promise<void>
}

class CallFailed extends Error {
  constructor(readonly status: number, what: string) {
    super(`${what} answered ${status}`)
  }
}

async function call(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) })
  await response.body?.cancel()
  if (response.status >= 300) throw new CallFailed(response.status, url)
}

/** The options with their defaults filled in: what the chain will do. */
export function chainSettings(options: SyncChainOptions = {}): Required<SyncChainOptions> {
  return {
    gatewayLimitPerSecond: options.gatewayLimitPerSecond ?? 100,
    gatewayBaseMs: options.gatewayBaseMs ?? 100,
    gatewayMsPerRequestInFlight: options.gatewayMsPerRequestInFlight ?? 5,
    callTimeoutMs: options.callTimeoutMs ?? 200,
    retries: options.retries ?? 3,
  }
}

/** Starts the chain on a free loopback port. */
export async function startSyncChain(options: SyncChainOptions = {}): Promise<SyncChain> {
  const { gatewayLimitPerSecond: limit, gatewayBaseMs: baseMs, gatewayMsPerRequestInFlight: perRequestMs, callTimeoutMs: timeoutMs, retries } = chainSettings(options)
  const charges = new Map<string, number>()
  const shipped = new Set<string>()
  const stopped = new Set<string>()
  const recent: number[] = []
  let gatewayInFlight = 0
  // Clients that gave up leave keep-alive connections behind: closing must not wait for them.
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true })
  let base = ''

  const refuseIfStopped = (service: string) => {
    if (stopped.has(service)) throw Object.assign(new Error(`${service} is stopped`), { statusCode: 503 })
  }

  app.post<{ Body: { orderId: string } }>('/sales/orders', async (request, reply) => {
    refuseIfStopped('sales')
    // Sales waits for Billing, then for Shipping: the client waits for all of it.
    await call(`${base}/billing/charge`, request.body, timeoutMs * (retries + 2))
    await call(`${base}/shipping/ship`, request.body, timeoutMs)
    reply.code(201)
    return { orderId: request.body.orderId }
  })

  app.post<{ Body: { orderId: string } }>('/billing/charge', async (request) => {
    refuseIfStopped('billing')
    await pRetry(() => call(`${base}/gateway/charge`, request.body, timeoutMs), { retries, minTimeout: 50, factor: 2 })
    return { charged: true }
  })

  app.post<{ Body: { orderId: string } }>('/gateway/charge', async (request, reply) => {
    const now = Date.now()
    while (recent.length > 0 && recent[0]! <= now - 1000) recent.shift()
    if (recent.length >= limit) {
      reply.code(429)
      return { error: 'rate limit exceeded' }
    }
    recent.push(now)
    gatewayInFlight++
    try {
      // Slower the busier it is; it finishes (and charges) whether or not the caller still waits.
      await new Promise((resolve) => setTimeout(resolve, baseMs + perRequestMs * gatewayInFlight))
      charges.set(request.body.orderId, (charges.get(request.body.orderId) ?? 0) + 1)
    } finally {
      gatewayInFlight--
    }
    return { charged: true }
  })

  app.post<{ Body: { orderId: string } }>('/shipping/ship', async (request) => {
    refuseIfStopped('shipping')
    shipped.add(request.body.orderId)
    return { shipped: true }
  })

  base = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url: base,
    charges,
    shipped,
    get gatewayInFlight() {
      return gatewayInFlight
    },
    setStopped(service, isStopped) {
      if (isStopped) stopped.add(service)
      else stopped.delete(service)
    },
    close: () => app.close(),
  }
}
