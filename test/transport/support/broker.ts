import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Connection } from 'rabbitmq-client'
import { serviceAvailable } from '../../support/service.js'

/** The broker the tests use: RABBITMQ_URL, or the local one. */
export const brokerUrl = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672'

/** Whether the broker answers (see serviceAvailable). */
export const brokerAvailable = () => serviceAvailable('RabbitMQ', brokerUrl, 5672, 'start it (rabbitmq-server -detached) or set RABBITMQ_URL')

/** A namespace of queues and exchanges of its own for one test, so runs never see each other's messages. */
export function testNamespace(label: string): string {
  return `mailroom-test-${label}-${process.pid}-${Date.now().toString(36)}`
}

/** Deletes every queue and exchange of `namespace` (as rabbitmqctl lists them). */
export async function deleteNamespace(namespace: string, modules: readonly string[]): Promise<void> {
  await deleteNamespaces([namespace], modules)
}

/** deleteNamespace for several at once: the broker's lists (slow to ask for) are read once. */
export async function deleteNamespaces(namespaces: readonly string[], modules: readonly string[]): Promise<void> {
  if (namespaces.length === 0) return
  const run = promisify(execFile)
  const ours = (name: string) => namespaces.some((namespace) => name.startsWith(`${namespace}.`))
  const listed = async (what: 'list_queues' | 'list_exchanges') =>
    (await run('rabbitmqctl', ['--quiet', what, '--no-table-headers', 'name'])).stdout
      .split('\n')
      .map((line) => line.trim())
      .filter(ours)
  const connection = new Connection(brokerUrl)
  try {
    const queues = new Set([...namespaces.flatMap((namespace) => modules.map((module) => `${namespace}.${module}`)), ...(await listed('list_queues'))])
    for (const queue of queues) {
      // A process's exclusive queue goes with its connection; one still open is not the test's to delete.
      await connection.queueDelete({ queue }).catch((error: unknown) => {
        if (!String((error as Error).message).includes('RESOURCE_LOCKED')) throw error
      })
    }
    for (const exchange of await listed('list_exchanges')) await connection.exchangeDelete({ exchange })
  } finally {
    await connection.close()
  }
}

/** Messages waiting in a queue of `namespace` at the broker. */
export async function queueLength(namespace: string, queue: string): Promise<number> {
  const connection = new Connection(brokerUrl)
  try {
    return (await connection.queueDeclare({ queue: `${namespace}.${queue}`, passive: true })).messageCount
  } finally {
    await connection.close()
  }
}

/**
 * Closes, from the broker's side, every connection whose client name contains `namespace` (what a
 * broker restart or an operator does to a client). Returns how many it closed. Needs rabbitmqctl.
 */
export async function closeConnectionsOf(namespace: string): Promise<number> {
  const run = promisify(execFile)
  const { stdout } = await run('rabbitmqctl', ['--quiet', 'list_connections', '--no-table-headers', 'pid', 'client_properties'])
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(namespace))
    .map((line) => line.trim().split(/\s+/)[0]!)
  for (const pid of pids) await run('rabbitmqctl', ['--quiet', 'close_connection', pid, 'closed by the Mailroom test of broker connection loss'])
  return pids.length
}
