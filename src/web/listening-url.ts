import type { FastifyInstance } from 'fastify'

/** Where this console answers, for a client in this process (the rainy day's campaign); undefined until it listens. */
export function listeningUrl(app: FastifyInstance): string | undefined {
  const address = app.server.address()
  if (address === null || typeof address === 'string') return undefined
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}
