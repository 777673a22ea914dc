import { Type } from '@sinclair/typebox'
import { createBus, defineCommand, defineEvent, defineModule, defineTable, handle, type Bus, type Transport } from '../../../src/bus/index.js'
import { postgresPersistence, transactionClient } from '../../../src/bus/postgres.js'

/**
 * Two modules on the PostgreSQL persistence: billing charges an order (a document in its table, a row in a
 * `payments` table of the user's own, written with its own SQL in the handler's transaction) and publishes
 * OrderCharged; shipping ships it (a document). Shared by the in-process tests and the child process the
 * crash test kills.
 */
export const Charges = defineTable('charges', Type.Object({ orderId: Type.String(), amount: Type.Integer() }))
export const Shipments = defineTable('shipments', Type.Object({ orderId: Type.String() }))
export const ChargeOrder = defineCommand('ChargeOrder', Type.Object({ orderId: Type.String(), amount: Type.Integer() }))
export const OrderCharged = defineEvent('OrderCharged', Type.Object({ orderId: Type.String() }))

export interface PaymentsBusOptions {
  url: string
  prefix: string
  transport?: Transport
  runHere?: string[]
  /** Called in the billing handler after its SQL, before the attempt commits. */
  afterSql?: (orderId: string) => Promise<void>
  /** Called in the shipping handler before it writes its shipment. */
  beforeShipping?: (orderId: string) => Promise<void>
  audit?: boolean | { maxConversations: number }
  /** Billing's delayed retries (default: none). */
  delayedRetries?: { count: number; baseDelayMs: number }
  /** How long inbox marks, dispatched rows and audit steps are kept (ms). */
  keepHandledMs?: number
  /** How often the relay looks for rows nobody relays (ms). @default 50 */
  relayEveryMs?: number
  /** How long a send whose commit's answer was lost waits for the database (ms). @default the persistence's */
  lostAnswerWaitMs?: number
}

/** The user's own table, created once beside the module's schema (as an application's migration would). */
export function paymentsTable(prefix: string): string {
  return `"${prefix}_billing".payments`
}

export async function createPaymentsTable(query: (sql: string) => Promise<unknown>, prefix: string): Promise<void> {
  await query(`CREATE SCHEMA IF NOT EXISTS "${prefix}_billing"`)
  await query(`CREATE TABLE IF NOT EXISTS ${paymentsTable(prefix)} (order_id text PRIMARY KEY, amount integer NOT NULL CHECK (amount > 0))`)
}

export function createPaymentsBus(options: PaymentsBusOptions): Bus {
  const billing = defineModule({
    name: 'billing',
    concurrency: 4,
    tables: [Charges],
    recoverability: { immediateRetries: 2, delayedRetries: options.delayedRetries ?? { count: 0 } },
    handlers: [
      handle(ChargeOrder, async ({ orderId, amount }, context) => {
        await (await transactionClient(context)).query(`INSERT INTO ${paymentsTable(options.prefix)} (order_id, amount) VALUES ($1, $2)`, [orderId, amount])
        await options.afterSql?.(orderId)
        context.table(Charges).put(orderId, { orderId, amount })
        await context.publish(OrderCharged, { orderId })
      }),
    ],
  })
  const shipping = defineModule({
    name: 'shipping',
    concurrency: 4,
    tables: [Shipments],
    handlers: [
      handle(OrderCharged, async ({ orderId }, context) => {
        await options.beforeShipping?.(orderId)
        context.table(Shipments).put(orderId, { orderId })
      }),
    ],
  })
  return createBus({
    modules: [billing, shipping],
    routes: { ChargeOrder: 'billing' },
    persistence: postgresPersistence({ connectionString: options.url, prefix: options.prefix, relayEveryMs: options.relayEveryMs ?? 50, ...(options.keepHandledMs !== undefined ? { keepHandledMs: options.keepHandledMs } : {}), ...(options.lostAnswerWaitMs !== undefined ? { lostAnswerWaitMs: options.lostAnswerWaitMs } : {}) }),
    audit: options.keepHandledMs !== undefined ? { maxAgeMs: Math.max(1, options.keepHandledMs) } : (options.audit ?? true),
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.runHere ? { runHere: options.runHere } : {}),
  })
}
