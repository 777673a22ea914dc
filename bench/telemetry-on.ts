import { ExportResultCode } from '@opentelemetry/core'
import { AggregationTemporality, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace'
import { startTelemetry, type Telemetry } from '../src/telemetry.js'

/**
 * For the profile scripts (`MAILROOM_BENCH_TELEMETRY=1`, or `traces` or `metrics` for one of the two): OpenTelemetry's Node SDK as `npm start` starts it,
 * recording every span (batched, as in production) and every metric, but exporting into nothing, so what
 * is measured is the bus's tracing and the SDK's work, not a collector's.
 */
export function startTelemetryIfAsked(): Telemetry | undefined {
  const asked = process.env.MAILROOM_BENCH_TELEMETRY
  if (asked !== '1' && asked !== 'traces' && asked !== 'metrics') return undefined
  const spans: SpanExporter = { export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }), shutdown: async () => {} }
  const points: PushMetricExporter = {
    export: (_metrics, done) => done({ code: ExportResultCode.SUCCESS }),
    forceFlush: async () => {},
    shutdown: async () => {},
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  }
  return startTelemetry({
    serviceName: 'mailroom-bench',
    configuration: {
      spanProcessors: asked === 'metrics' ? [] : [new BatchSpanProcessor({ exporter: spans })],
      metricReaders: asked === 'traces' ? [] : [new PeriodicExportingMetricReader({ exporter: points, exportIntervalMillis: 1_000 })],
    },
  })
}
