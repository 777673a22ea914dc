import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifyHelmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'

/**
 * Security headers with a strict CSP (no inline script or style: every script and stylesheet is a file
 * served from here), cookies for the CSRF secret, and urlencoded form bodies. Registered on the root,
 * so it applies to every route.
 */
export async function registerSecurity(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
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
  })
  await app.register(fastifyCookie)
  await app.register(fastifyCsrf, { cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true } })
  await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 })
}
