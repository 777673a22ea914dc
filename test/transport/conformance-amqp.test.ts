import { afterAll, describe, it } from 'vitest'
import { createAmqpTransport } from '../../src/bus/amqp.js'
import { transportChecks } from '../../src/bus/testing/index.js'
import { brokerAvailable, brokerUrl, deleteNamespaces, testNamespace } from './support/broker.js'

const available = await brokerAvailable()
/** One namespace per check, the same for both of its processes and across its restart. */
const namespaces = new Map<string, string>()
afterAll(async () => {
  await deleteNamespaces([...namespaces.values()], ['orders', 'payments'])
})

describe.skipIf(!available)('the RabbitMQ transport passes the transport conformance checks', () => {
  it.each(transportChecks.map((candidate) => [candidate.name, candidate] as const))('%s', { timeout: 60_000 }, async (_name, candidate) => {
    await candidate.run({
      create: (check, role) => {
        if (!namespaces.has(check)) namespaces.set(check, testNamespace(`conformance-${check}`))
        return createAmqpTransport({ url: brokerUrl, namespace: namespaces.get(check)!, console: role?.console ?? false })
      },
    })
  })
})
