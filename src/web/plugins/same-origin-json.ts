import type { FastifyRequest } from 'fastify'
import { CrossOriginError, UnsupportedMediaTypeError } from '../errors.js'

/**
 * The JSON API's guard for state-changing requests: only application/json bodies (a cross-site HTML
 * form cannot send that without a CORS preflight, which we never grant) and never from another origin.
 */
export async function requireSameOriginJson(request: FastifyRequest): Promise<void> {
  if (request.method === 'GET' || request.method === 'HEAD') return
  rejectCrossOrigin(request)
  const contentType = request.headers['content-type']
  if (!contentType || !/^application\/json\s*(;|$)/i.test(contentType)) throw new UnsupportedMediaTypeError(contentType)
}

export function rejectCrossOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin
  if (origin !== undefined && origin !== `${request.protocol}://${request.host}`) throw new CrossOriginError(origin)
  if (request.headers['sec-fetch-site'] === 'cross-site') throw new CrossOriginError(origin ?? 'another site')
}
