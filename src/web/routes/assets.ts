import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'

const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' }

/**
 * Files of public/, read once, served from here so the CSP can forbid inline code: the console's script
 * and stylesheet under its base, a page of the shop's own script beside them.
 */
export function serveAssets(app: FastifyInstance, names: readonly string[]): void {
  for (const name of names) {
    const content = readFileSync(new URL(`../../../public/${name}`, import.meta.url))
    const type = types[name.split('.').pop()!]!
    app.get(`/${name}`, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(content))
  }
}
