import { FastifyOtelInstrumentation } from '@fastify/otel'
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node'

/*
 * The shop's OpenTelemetry: the Node SDK, started only when the standard `OTEL_*` environment asks for an
 * exporter (`OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm start` sends traces and metrics to a
 * collector or Jaeger), so a plain `npm start` neither loads an exporter nor tries to reach one. The bus
 * itself only calls @opentelemetry/api: whatever SDK an application registers gets its spans and metrics.
 * src/main.ts imports this module only then (config.ts's `telemetry`): the SDK and its exporters take
 * about a third of a second to load.
 */

/**
 * Fastify's own instrumentation: a span for each request (continuing a `traceparent` the client sent),
 * made the current context for the route, so a message the route sends is its child. The console's
 * live stream (one request held open for as long as the page is), its assets and the Prometheus scrape
 * would only add noise.
 */
export function fastifyInstrumentation(): FastifyOtelInstrumentation {
  return new FastifyOtelInstrumentation({
    registerOnInitialization: true,
    ignorePaths: ({ url }) => url.startsWith('/api/stream') || url === '/metrics' || url === '/app.js' || url === '/app.css',
    // `POST /api/orders` rather than `request`: the HTTP conventions' name, what a trace list should show.
    requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`),
  })
}

export interface Telemetry {
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>
}

/**
 * Starts the Node SDK (exporters, propagators, resource from the environment; the service named after the
 * part of the shop this process runs unless OTEL_SERVICE_NAME says otherwise). Call it before the bus
 * starts and before Fastify is created. `configuration` adds to or replaces what the environment chose
 * (tests pass an in-memory span processor).
 */
export function startTelemetry(options: { serviceName: string; configuration?: Partial<NodeSDKConfiguration> }): Telemetry {
  const sdk = new NodeSDK({
    ...(process.env.OTEL_SERVICE_NAME ? {} : { serviceName: options.serviceName }),
    instrumentations: [fastifyInstrumentation()],
    ...options.configuration,
  })
  sdk.start()
  return { shutdown: () => sdk.shutdown() }
}
