/**
 * One campaign of orders against either side of the rainy-day comparison: the synchronous chain (the
 * client waits for every service) or the messaging shop (the client waits for the disk). The figures come
 * from the run: what the client saw (answers, failures, response times) and what happened (shipped,
 * charged, charged twice).
 */
export interface CampaignFigures {
  orders: number
  /** Answered with success (201 from the chain, 202 from the shop). */
  accepted: number
  /** Failed for the client: an error status, or no answer in time. */
  failed: number
  p50Ms: number
  p99Ms: number
}

export interface CampaignOptions {
  orders: number
  /** Clients at once. */
  concurrency: number
  /** How long a client waits for an answer. @default 5000 */
  clientTimeoutMs?: number
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Posts `orders` orders, `concurrency` at a time, to `url` with a body per order; measures what a client sees. */
export async function runCampaign(url: string, bodyOf: (n: number) => unknown, options: CampaignOptions, headers: Record<string, string> = {}): Promise<CampaignFigures> {
  const times: number[] = []
  let accepted = 0
  let failed = 0
  let next = 0
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.orders) {
        const n = next++
        const started = performance.now()
        try {
          const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(bodyOf(n)), signal: AbortSignal.timeout(options.clientTimeoutMs ?? 5_000) })
          await response.body?.cancel()
          if (response.ok) accepted++
          else failed++
        } catch {
          failed++
        }
        times.push(performance.now() - started)
      }
    }),
  )
  times.sort((a, b) => a - b)
  return { orders: options.orders, accepted, failed, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) }
}
