import type { Bus, ModuleStatus } from '../../bus/index.js'

/** One second of one module. */
export interface MetricsSample {
  at: number
  queueLength: number
  /** Messages handled per second. */
  throughput: number
  processingTimeMs: number
  criticalTimeMs: number
  retries: number
}

export interface MetricsSampler {
  /** Per module, oldest first, at most `window` samples. */
  history(): Record<string, MetricsSample[]>
  onSample(listener: (latest: Record<string, MetricsSample>) => void): void
  stop(): void
}

/**
 * Samples every module once a second: the bus keeps running totals, the console wants rates and
 * averages per second, for sparklines and /monitoring.
 */
export function createMetricsSampler(bus: Bus, options: { intervalMs?: number; window?: number } = {}): MetricsSampler {
  const intervalMs = options.intervalMs ?? 1_000
  const window = options.window ?? 60
  const history: Record<string, MetricsSample[]> = {}
  const listeners: ((latest: Record<string, MetricsSample>) => void)[] = []
  let previous = new Map<string, ModuleStatus>()
  let previousAt = Date.now()

  const sample = () => {
    const now = Date.now()
    const seconds = Math.max(0.001, (now - previousAt) / 1000)
    const latest: Record<string, MetricsSample> = {}
    const current = new Map<string, ModuleStatus>()
    for (const status of bus.admin.modules()) {
      current.set(status.name, status)
      const before = previous.get(status.name)
      const handled = status.handled - (before?.handled ?? 0)
      const totalProcessing = status.averageProcessingTimeMs * status.handled - (before ? before.averageProcessingTimeMs * before.handled : 0)
      const totalCritical = status.averageCriticalTimeMs * status.handled - (before ? before.averageCriticalTimeMs * before.handled : 0)
      const entry: MetricsSample = {
        at: now,
        queueLength: status.queueLength,
        throughput: Math.max(0, handled) / seconds,
        processingTimeMs: handled > 0 ? totalProcessing / handled : 0,
        criticalTimeMs: handled > 0 ? totalCritical / handled : 0,
        retries: Math.max(0, status.retries - (before?.retries ?? 0)),
      }
      const series = (history[status.name] ??= [])
      series.push(entry)
      if (series.length > window) series.shift()
      latest[status.name] = entry
    }
    previous = current
    previousAt = now
    for (const listener of listeners) listener(latest)
  }
  const timer = setInterval(sample, intervalMs)
  timer.unref()
  return {
    history: () => history,
    onSample: (listener) => void listeners.push(listener),
    stop: () => clearInterval(timer),
  }
}
