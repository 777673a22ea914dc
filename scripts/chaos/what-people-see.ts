/**
 * After a chaos run, what a person sees through the HTTP API of the restarted app: every order listed,
 * in the state its journal says, with its whole conversation, and charged once.
 */

export interface WhatPeopleSee {
  /** Orders acknowledged with 202 (and not in an error queue) that GET /api/orders does not list. */
  unlisted: string[]
  /** Orders that GET /api/orders/:id does not show billed and shipped (though their journals say shipped). */
  wrongState: string[]
  /** Orders whose conversation lacks one of the four handled steps of the shop's flow. */
  incompleteConversations: string[]
  /** Orders listed as billed, and the gateway's counts: charged must equal billed, chargedTwice 0. */
  billed: number
  gateway: { charged: number; duplicates: number; chargedTwice: number }
}

interface Listed {
  orderId: string
  conversationId: string
  billed: boolean
}

const flow = ['PlaceOrder sales', 'OrderPlaced billing', 'OrderPlaced shipping', 'OrderBilled shipping']

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

/**
 * Checks `expected` (shipped according to the journals) through the API at `url`, 16 requests at a time.
 * `gateway: false` when the console's process has no gateway (Billing runs elsewhere): its counts are zeros.
 */
export async function checkWhatPeopleSee(url: string, expected: readonly string[], options: { gateway?: boolean } = {}): Promise<WhatPeopleSee> {
  const listed = new Map<string, Listed>()
  let cursor: string | undefined
  do {
    const page = await getJson<{ items: Listed[]; next?: string }>(`${url}/api/orders?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
    for (const item of page.items) listed.set(item.orderId, item)
    cursor = page.next
  } while (cursor)
  const unlisted = expected.filter((orderId) => !listed.has(orderId))
  const wrongState: string[] = []
  const incompleteConversations: string[] = []
  const queue = expected.filter((orderId) => listed.has(orderId))
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let orderId = queue.pop(); orderId !== undefined; orderId = queue.pop()) {
        const order = await getJson<{ billing: { billed?: boolean }; shipping: { shipped?: boolean } }>(`${url}/api/orders/${orderId}`)
        if (order.billing.billed !== true || order.shipping.shipped !== true) wrongState.push(orderId)
        const conversation = await getJson<{ messages: { type: string; to: string; outcome: string }[] }>(`${url}/api/conversations/${listed.get(orderId)!.conversationId}`)
        const handled = new Set(conversation.messages.filter((step) => step.outcome === 'handled').map((step) => `${step.type} ${step.to}`))
        if (!flow.every((step) => handled.has(step))) incompleteConversations.push(orderId)
      }
    }),
  )
  const gateway = options.gateway === false ? { charged: 0, duplicates: 0, chargedTwice: 0 } : await getJson<WhatPeopleSee['gateway']>(`${url}/api/gateway`)
  return { unlisted, wrongState, incompleteConversations, billed: [...listed.values()].filter((order) => order.billed).length, gateway }
}
