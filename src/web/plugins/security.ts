import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'

const helmetOptions: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      // The console is served over plain http on loopback; upgrading would break it.
      upgradeInsecureRequests: null,
    },
  },
  // Same reason: HSTS on http://127.0.0.1 only confuses browsers.
  strictTransportSecurity: false,
  // helmet's default, no-referrer, makes browsers send `Origin: null` on form posts, which the
  // same-origin check must refuse; same-origin keeps referrers inside the console.
  referrerPolicy: { policy: 'same-origin' },
}

/**
 * The headers helmet sets with our options, worked out once. @fastify/helmet builds helmet's middleware
 * again for every request, and parsing the CSP directives was ~10% of the CPU of a POST /api/orders
 * (bench/profile-http.ts). Our headers do not vary per request (no nonces), so helmet runs once here.
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  }
  let failure: unknown
  helmet(helmetOptions)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => (failure = error))
  if (failure) throw failure
  return headers
}

/**
 * Security headers with a strict CSP (no inline script or style: every script and stylesheet is a file
 * served from here), cookies for the CSRF secret, and urlencoded form bodies. Registered on the root,
 * so it applies to every route.
 */
export async function registerSecurity(app: FastifyInstance): Promise<void> {
  const headers = securityHeaders()
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers)
  })
  await app.register(fastifyCookie)
  await app.register(fastifyCsrf, { cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true } })
  await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 })
}
