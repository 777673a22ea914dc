import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ModuleName } from '../../operations.js'

const ModuleParams = Type.Object({ name: ModuleName })

/** Module panels' data and controls (JSON): stop, start, inject a fault, a fault rate. */
export async function moduleRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { bus, operations } = fastify.console

  app.get('/modules', async () => bus.admin.modules())

  /** How messages travel: embedded, or the broker connection's state, and each module's queue at the broker. */
  app.get('/transport', async () => ({ ...bus.admin.transport(), brokerQueues: (await bus.admin.brokerQueueLengths()) ?? null }))

  app.post('/modules/:name/stop', { schema: { params: ModuleParams } }, async (request) => operations.stopModule(request.params.name))
  app.post('/modules/:name/start', { schema: { params: ModuleParams } }, async (request) => operations.startModule(request.params.name))
  app.post('/modules/:name/fault', { schema: { params: ModuleParams, body: Type.Object({ on: Type.Boolean() }, { additionalProperties: false }) } }, async (request) =>
    operations.setFault(request.params.name, request.body.on),
  )
  app.post(
    '/modules/:name/fault-rate',
    { schema: { params: ModuleParams, body: Type.Object({ rate: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }) } },
    async (request) => operations.setFaultRate(request.params.name, request.body.rate),
  )
}
