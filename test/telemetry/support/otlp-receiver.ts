import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A span as an OTLP/JSON exporter sends it, with the name of the service (process) that sent it. */
export interface ReceivedSpan {
  service: string
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  links: { traceId: string; spanId: string }[]
  attributes: Record<string, unknown>
  status: { code?: number }
  events: { name: string }[]
}

/** A metric data point as an OTLP/JSON exporter sends it. */
export interface ReceivedPoint {
  service: string
  metric: string
  attributes: Record<string, unknown>
  value: number
}

type OtlpAttribute = { key: string; value: Record<string, unknown> }
const attributesOf = (list: OtlpAttribute[] | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue))]))

/**
 * What an OpenTelemetry collector is to `npm start` (OTEL_EXPORTER_OTLP_ENDPOINT with
 * OTEL_EXPORTER_OTLP_PROTOCOL=http/json): it takes traces and metrics on loopback and keeps them for the test.
 */
export async function startOtlpReceiver(): Promise<{ endpoint: string; spans: ReceivedSpan[]; points: ReceivedPoint[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = []
  const points: ReceivedPoint[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
        if (request.url === '/v1/traces') collectSpans(body, spans)
        else if (request.url === '/v1/metrics') collectPoints(body, points)
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch {
        response.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    points,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function serviceOf(resource: { attributes?: OtlpAttribute[] } | undefined): string {
  return String(attributesOf(resource?.attributes)['service.name'] ?? '')
}

function collectSpans(body: Record<string, unknown>, into: ReceivedSpan[]): void {
  for (const resourceSpans of (body.resourceSpans ?? []) as { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]) {
    const service = serviceOf(resourceSpans.resource)
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        into.push({
          service,
          traceId: String(span.traceId),
          spanId: String(span.spanId),
          parentSpanId: String(span.parentSpanId ?? ''),
          name: String(span.name),
          kind: Number(span.kind),
          links: ((span.links ?? []) as { traceId: string; spanId: string }[]).map(({ traceId, spanId }) => ({ traceId, spanId })),
          attributes: attributesOf(span.attributes as OtlpAttribute[]),
          status: (span.status ?? {}) as { code?: number },
          events: ((span.events ?? []) as { name: string }[]).map(({ name }) => ({ name })),
        })
      }
    }
  }
}

function collectPoints(body: Record<string, unknown>, into: ReceivedPoint[]): void {
  for (const resourceMetrics of (body.resourceMetrics ?? []) as { resource?: { attributes?: OtlpAttribute[] }; scopeMetrics?: { metrics?: Record<string, unknown>[] }[] }[]) {
    const service = serviceOf(resourceMetrics.resource)
    for (const scope of resourceMetrics.scopeMetrics ?? []) {
      for (const metric of scope.metrics ?? []) {
        const data = (metric.sum ?? metric.gauge ?? metric.histogram) as { dataPoints?: Record<string, unknown>[] } | undefined
        for (const point of data?.dataPoints ?? []) {
          const value = point.asInt !== undefined ? Number(point.asInt) : point.asDouble !== undefined ? Number(point.asDouble) : Number(point.count ?? 0)
          into.push({ service, metric: String(metric.name), attributes: attributesOf(point.attributes as OtlpAttribute[]), value })
        }
      }
    }
  }
}
