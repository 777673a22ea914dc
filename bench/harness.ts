import { mkdirSync, writeFileSync } from 'node:fs'
import { encodeRecord } from '../src/bus/outbox/record.js'
import { join } from 'node:path'

/** One measured scenario: several rounds of one number, and what to compare it with. */
export interface ScenarioResult {
  name: string
  unit: string
  rounds: number[]
  /** Name of the scenario whose median this one is divided by, for the ratio column. */
  reference?: string
  /** For a peer: the Mailroom scenario it is measured against; the ratio column says how many times faster that one was. */
  peerOf?: string
  /** Further measurements worth printing (p99, bytes per message, ...). */
  extra?: Record<string, number | string>
  target?: string
}

export interface BenchOptions {
  quick: boolean
  rounds: number
}

export type Scenario = (options: BenchOptions) => Promise<ScenarioResult[]>

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Spread as (max - min) / median, in percent. */
export function spread(values: readonly number[]): number {
  const m = median(values)
  return m === 0 ? 0 : ((Math.max(...values) - Math.min(...values)) / m) * 100
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export async function rounds(count: number, run: () => Promise<number>): Promise<number[]> {
  const results: number[] = []
  for (let i = 0; i < count; i++) results.push(await run())
  return results
}

/** Rounds of a measurement that also reports a figure of its own: the rates, and the last round's figure. */
export async function roundsWithFigure(count: number, name: string, run: () => Promise<{ rate: number; figure: number }>): Promise<{ rounds: number[]; extra: Record<string, number> }> {
  let figure = 0
  const measured = await rounds(count, async () => {
    const round = await run()
    figure = round.figure
    return round.rate
  })
  return { rounds: measured, extra: { [name]: Number(figure.toFixed(1)) } }
}

/** Measures how late a setTimeout(0) fires while `work` runs: the event loop's responsiveness. */
export async function withLagProbe<T>(work: () => Promise<T>): Promise<{ result: T; maxLagMs: number; p99LagMs: number; lags: number[] }> {
  const lags: number[] = []
  let running = true
  let last = performance.now()
  const tick = () => {
    const now = performance.now()
    lags.push(now - last)
    last = now
    if (running) setTimeout(tick, 0)
  }
  setTimeout(tick, 0)
  const result = await work()
  running = false
  return { result, maxLagMs: Math.max(0, ...lags), p99LagMs: percentile(lags, 99), lags }
}

export const perSecond = (count: number, ms: number) => (count / ms) * 1000

/** Writes framed records as journal segments of at most 8 MiB (the bus's default), as a long run leaves them. */
export function writeSegments(dir: string, lines: readonly Buffer[], maxSegmentBytes = 8 * 1024 * 1024): void {
  let segment = 1
  let batch: Buffer[] = []
  let bytes = 0
  const flush = () => {
    writeFileSync(join(dir, `${String(segment++).padStart(8, '0')}.journal`), Buffer.concat(batch))
    batch = []
    bytes = 0
  }
  for (const line of lines) {
    if (bytes > 0 && bytes + line.length > maxSegmentBytes) flush()
    batch.push(line)
    bytes += line.length
  }
  if (bytes > 0) flush()
}

/**
 * A data directory's `_outside` journal holding `count` Tick messages sent to `module` and never handled:
 * what replay reads after a long run with that module stopped.
 */
export function writeOutBacklog(dataDir: string, count: number, module: string): void {
  const dir = join(dataDir, '_outside')
  mkdirSync(dir, { recursive: true })
  const lines: Buffer[] = []
  const t = Date.now()
  for (let n = 0; n < count; n++) {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
    lines.push(encodeRecord({ k: 'out', t, msgs: [{ to: [module], env: { id, type: 'Tick', headers: { 'mailroom.message-id': id, 'mailroom.type': 'Tick', 'mailroom.kind': 'event' }, body: { n } } }] }))
  }
  writeSegments(dir, lines)
}
