import type { FastifyInstance } from 'fastify'
import { Gauge, Registry } from 'prom-client'

/** GET /metrics: the modules' counters and gauges in Prometheus text format, read at scrape time. */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { admin } = app.console.bus
  const registry = new Registry()
  const gauge = (name: string, help: string, read: (status: ReturnType<typeof admin.modules>[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['module'],
      registers: [registry],
      collect() {
        for (const status of admin.modules()) this.set({ module: status.name }, read(status))
      },
    })
  gauge('mailroom_queue_length', 'Messages waiting in the module queue', (s) => s.queueLength)
  gauge('mailroom_queue_on_disk', 'Of the queued messages, those kept on disk only until their turn', (s) => s.queuedOnDisk)
  gauge('mailroom_in_flight', 'Messages being handled now', (s) => s.inFlight)
  gauge('mailroom_delayed', 'Messages waiting for a delayed retry or a deferred time', (s) => s.delayed)
  gauge('mailroom_error_queue_length', 'Messages in the error queue', (s) => s.errorQueueLength)
  gauge('mailroom_handled_total', 'Messages handled since start', (s) => s.handled)
  gauge('mailroom_failed_total', 'Messages moved to the error queue since start', (s) => s.failed)
  gauge('mailroom_retries_total', 'Failed attempts that were retried since start', (s) => s.retries)
  gauge('mailroom_processing_time_ms_avg', 'Average handler time', (s) => s.averageProcessingTimeMs)
  gauge('mailroom_critical_time_ms_avg', 'Average time from send to handled', (s) => s.averageCriticalTimeMs)
  gauge('mailroom_running', '1 when the module runs, 0 when stopped', (s) => (s.running ? 1 : 0))

  const stream = app.console.stream
  new Gauge({
    name: 'mailroom_console_stream_clients',
    help: 'Clients of the live stream (/api/stream) now',
    registers: [registry],
    collect() {
      this.set(stream.clients)
    },
  })
  new Gauge({
    name: 'mailroom_console_stream_dropped_total',
    help: 'Live-stream clients dropped because they stopped reading (more than the limit waiting)',
    registers: [registry],
    collect() {
      this.set(stream.dropped)
    },
  })

  new Gauge({
    name: 'mailroom_console_stream_refused_total',
    help: 'Live-stream clients refused (503) because the stream had as many as it takes',
    registers: [registry],
    collect() {
      this.set(stream.refused)
    },
  })

  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType)
    return registry.metrics()
  })
}
