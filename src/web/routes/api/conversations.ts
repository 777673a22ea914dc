import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../../errors.js'

export const ConversationParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) })

/** A conversation's messages, in time order. */
export async function conversationRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/conversations/:id', { schema: { params: ConversationParams } }, async (request) => {
    const { id } = request.params
    const steps = await app.console.conversations.get(id)
    if (!steps) throw new NotFoundError('conversation', id)
    return { conversationId: id, messages: steps }
  })
}
