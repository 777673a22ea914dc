import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'

const files = {
  'app.js': 'text/javascript; charset=utf-8',
  'rainy-day.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const

/** The console's script and stylesheet: a few files, read once, served from here so the CSP can forbid inline code. */
export async function assetRoutes(app: FastifyInstance): Promise<void> {
  for (const [name, type] of Object.entries(files)) {
    const content = readFileSync(new URL(`../../../public/${name}`, import.meta.url))
    app.get(`/${name}`, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(content))
  }
}
