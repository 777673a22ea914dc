import Fastify, { type FastifyInstance } from 'fastify'
import type { Bus } from '../bus/index.js'

export interface AppOptions {
  bus: Bus
  logger?: boolean
}

/**
 * Builds the web app without listening (tests use `app.inject()`). The full console arrives with the
 * shop issue; for now it shows that the bus runs and what each module is doing.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 })
  const { bus } = options
  app.get('/api/modules', async () => bus.admin.modules())
  app.get('/', async (_request, reply) => {
    const rows = bus.admin
      .modules()
      .map((m) => `<tr><td>${escapeHtml(m.name)}</td><td>${m.running ? 'running' : 'stopped'}</td><td>${m.queueLength}</td><td>${m.handled}</td><td>${m.failed}</td></tr>`)
      .join('')
    reply.type('text/html; charset=utf-8')
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mailroom</title></head><body>
<h1>Mailroom</h1><p>The bus is running. The shop's console is being built; meanwhile, its modules:</p>
<table><thead><tr><th>Module</th><th>State</th><th>Queue</th><th>Handled</th><th>Failed</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>`
  })
  return app
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
