import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../../errors.js'

/** The simulated payment gateway's counts: charges taken, repeated requests answered from memory, orders charged twice. */
export async function gatewayRoutes(app: FastifyInstance): Promise<void> {
  app.get('/gateway', async () => {
    const counts = app.shop.gateway()
    // Billing (and so its gateway) runs in another process.
    if (!counts) throw new NotFoundError('payment gateway', 'in this process')
    return counts
  })
}
