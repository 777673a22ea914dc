import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../../errors.js'

const ModuleParams = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$' }) })

/** Module panels' data and controls: stop, start, inject a fault. */
export async function moduleRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { bus } = fastify.console
  const requireModule = (name: string) => {
    if (!bus.admin.moduleNames().includes(name)) throw new NotFoundError('module', name)
    return name
  }

  app.get('/modules', async () => bus.admin.modules())

  /** How messages travel: embedded, or the broker connection's state, and each module's queue at the broker. */
  app.get('/transport', async () => ({ ...bus.admin.transport(), brokerQueues: (await bus.admin.brokerQueueLengths()) ?? null }))

  app.post('/modules/:name/stop', { schema: { params: ModuleParams } }, async (request) => {
    const name = requireModule(request.params.name)
    bus.admin.stopModule(name)
    return bus.admin.module(name)
  })

  app.post('/modules/:name/start', { schema: { params: ModuleParams } }, async (request) => {
    const name = requireModule(request.params.name)
    bus.admin.startModule(name)
    return bus.admin.module(name)
  })

  app.post(
    '/modules/:name/fault',
    { schema: { params: ModuleParams, body: Type.Object({ on: Type.Boolean() }, { additionalProperties: false }) } },
    async (request) => {
      const name = requireModule(request.params.name)
      bus.admin.setFault(name, request.body.on)
      return bus.admin.module(name)
    },
  )

  app.post(
    '/modules/:name/fault-rate',
    { schema: { params: ModuleParams, body: Type.Object({ rate: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }) } },
    async (request) => {
      const name = requireModule(request.params.name)
      bus.admin.setFaultRate(name, request.body.rate)
      return bus.admin.module(name)
    },
  )
}
