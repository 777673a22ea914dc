import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ModuleName } from '../operations.js'
import { rejectCrossOrigin } from '../plugins/same-origin-json.js'

const Csrf = { _csrf: Type.String({ minLength: 1, maxLength: 200 }) }
const ModuleParams = Type.Object({ name: ModuleName })
/** One id per checkbox; a form with one checked box sends a string, with several an array. */
const IdList = Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 10_000 })])
const asList = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value])

/** Back to `back` (303), or the result as JSON for the page's script, which submits the same forms with fetch. */
export function formDone(request: FastifyRequest, reply: FastifyReply, back: string, result: unknown) {
  if (request.headers.accept?.includes('application/json')) return reply.send(result)
  return reply.redirect(back, 303)
}

/** Guards a scope of HTML forms: same origin, then the CSRF token (after the body is parsed, before the schema: a missing token is a 403, not a 400). */
export function guardForms(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => rejectCrossOrigin(request))
  app.addHook('preValidation', app.csrfProtection)
}

/**
 * The console's HTML forms (they work without JavaScript): a module's stop, start and fault, the failed
 * messages' retry and delete. POST with a CSRF token, then back to the page.
 */
export async function consoleActionRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const shop = app.console
  const { operations } = shop
  guardForms(app)

  app.post('/modules/:name/:action', { schema: { params: Type.Object({ ...ModuleParams.properties, action: Type.Union([Type.Literal('stop'), Type.Literal('start'), Type.Literal('fault-on'), Type.Literal('fault-off')]) }), body: Type.Object({ ...Csrf }, { additionalProperties: false }) } }, async (request, reply) => {
    const { name, action } = request.params
    const status = action === 'stop' ? operations.stopModule(name) : action === 'start' ? operations.startModule(name) : operations.setFault(name, action === 'fault-on')
    return formDone(request, reply, `${shop.base}/`, status)
  })

  const FailedSelection = { body: Type.Object({ ...Csrf, ids: Type.Optional(IdList), q: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }) }
  /** Back to the failed messages, keeping the search and saying what happened. */
  const backToFailed = (q: string | undefined, done: string) => `${shop.base}/failed?${new URLSearchParams({ ...(q ? { q } : {}), done })}`

  app.post('/failed/retry', { schema: FailedSelection }, async (request, reply) => {
    const body = request.body
    // The ids are the selection as the page showed it at the click: later failures are not swept in.
    const result = await operations.retryFailed({ ids: asList(body.ids) })
    const already = result.notFound.length ? `; ${result.notFound.length} were already retried or deleted` : ''
    return formDone(request, reply, backToFailed(body.q, `Retried ${result.retried.length}${already}`), result)
  })

  app.post('/failed/delete', { schema: FailedSelection }, async (request, reply) => {
    const body = request.body
    const result = await operations.deleteFailed(asList(body.ids))
    return formDone(request, reply, backToFailed(body.q, `Deleted ${result.deleted.length}`), result)
  })
}
