import { randomBytes } from 'node:crypto'
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { startTelemetry, type Telemetry } from '../../../src/telemetry.js'

/**
 * The shop's own telemetry start (src/telemetry.ts: the Node SDK with Fastify's instrumentation), its
 * spans and metrics kept in memory for the test to read. One per test file: the SDK is process-wide.
 */
export function startRecordedTelemetry(): { telemetry: Telemetry; spans: InMemorySpanExporter; finishedSpans: () => Promise<ReadableSpan[]>; metrics: () => Promise<InMemoryMetricExporter> } {
  const spans = new InMemorySpanExporter()
  const processor = new SimpleSpanProcessor({ exporter: spans })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
  const telemetry = startTelemetry({ serviceName: 'mailroom-test', configuration: { spanProcessors: [processor], metricReaders: [reader] } })
  return {
    telemetry,
    spans,
    /** Every span ended so far. Flushed first: the SDK holds the first spans back while it detects the resource (host, process) they name. */
    async finishedSpans() {
      await processor.forceFlush()
      return spans.getFinishedSpans()
    },
    async metrics() {
      await reader.forceFlush()
      return metricExporter
    },
  }
}

/** A `traceparent` a client sends: a trace of its own, so the test finds exactly that trace's spans. */
export function clientTraceparent(): { traceId: string; spanId: string; header: string } {
  const traceId = randomBytes(16).toString('hex')
  const spanId = randomBytes(8).toString('hex')
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` }
}

export function spansOfTrace(spans: readonly ReadableSpan[], traceId: string): ReadableSpan[] {
  return spans.filter((span) => span.spanContext().traceId === traceId)
}
