/**
 * One campaign of orders against either side of the rainy-day comparison: the synchronous chain (the
 * client waits for every service) or the messaging shop (the client waits for the disk). The figures come
 * from the run: what the client saw (answers, failures, response times), readable while it runs.
 */
export interface CampaignFigures {
  orders: number
  /** Requests answered so far (either way). */
  answered: number
  /** Answered with success (201 from the chain, 202 from the shop). */
  accepted: number
  /** Failed for the client: an error status, or no answer in time. */
  failed: number
  /** Response times of the answers so far; 0 before the first. */
  p50Ms: number
  p99Ms: number
}

export interface CampaignOptions {
  orders: number
  /** Clients at once. */
  concurrency: number
  /** How long a client waits for an answer. @default 5000 */
  clientTimeoutMs?: number
  headers?: Record<string, string>
  /** A successful answer's JSON body (the shop's names the order it placed). */
  onAccepted?: (n: number, answer: unknown) => void
  onFailed?: (n: number) => void
  /** Aborted: no client sends another order. */
  signal?: AbortSignal
}

export interface Campaign {
  /** The figures so far. */
  figures(): CampaignFigures
  /** Once every client has its last answer. */
  readonly finished: Promise<CampaignFigures>
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Starts posting `orders` orders, `concurrency` at a time, to `url` with a body per order; measures what a client sees. */
export function startCampaign(url: string, bodyOf: (n: number) => unknown, options: CampaignOptions): Campaign {
  const times: number[] = []
  let accepted = 0
  let failed = 0
  let next = 0
  const figures = (): CampaignFigures => {
    const sorted = [...times].sort((a, b) => a - b)
    return { orders: options.orders, answered: times.length, accepted, failed, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) }
  }
  const client = async () => {
    while (next < options.orders && !options.signal?.aborted) {
      const n = next++
      const started = performance.now()
      let ok = false
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers },
          body: JSON.stringify(bodyOf(n)),
          // Not tied to `signal` (AbortSignal.any would add a listener to it per request): an aborted
          // campaign sends nothing more, and what is under way ends by its timeout.
          signal: AbortSignal.timeout(options.clientTimeoutMs ?? 5_000),
        })
        ok = response.ok
        if (ok && options.onAccepted) options.onAccepted(n, await response.json())
        else await response.body?.cancel()
      } catch {
        ok = false
      }
      times.push(performance.now() - started)
      if (ok) accepted++
      else {
        failed++
        options.onFailed?.(n)
      }
    }
  }
  const finished = Promise.all(Array.from({ length: options.concurrency }, client)).then(figures)
  return { figures, finished }
}

/** A whole campaign; its figures once the last answer is in. */
export function runCampaign(url: string, bodyOf: (n: number) => unknown, options: CampaignOptions): Promise<CampaignFigures> {
  return startCampaign(url, bodyOf, options).finished
}
