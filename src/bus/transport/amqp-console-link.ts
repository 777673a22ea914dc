import { Connection } from 'rabbitmq-client'
import type { ConsoleLink, ModuleViews } from '../console-link/console-link.js'
import { amqpNames } from './amqp-transport.js'
import { connectBrokerConsole } from './broker-console.js'

export interface AmqpConsoleLinkOptions {
  /** e.g. amqp://guest:guest@127.0.0.1:5672 */
  url: string
  /** The transport's namespace: the reports and commands go through its exchanges. @default 'mailroom' */
  namespace?: string
  /** This process hosts the console: it hears every process's reports and sends people's commands. @default false */
  console?: boolean
  /** This process's answers to a console's questions about a key, per module (the shop: its orders). */
  views?: ModuleViews
  connectionName?: string
}

/**
 * The console link over RabbitMQ, on a connection of its own: each process reports its modules to a
 * fanout exchange once a second (transient messages that expire) and takes a person's commands for them
 * from a direct exchange; a console process hears every report. Moving messages is the transport's job,
 * this one only watches and steers the modules.
 */
export function createAmqpConsoleLink(options: AmqpConsoleLinkOptions): ConsoleLink {
  const names = amqpNames(options.namespace)
  let connection: Connection | undefined
  let brokerConsole: ReturnType<typeof connectBrokerConsole> | undefined
  return {
    views: options.views ?? {},
    get remoteModules() {
      return brokerConsole?.remote
    },
    async start(node) {
      connection = new Connection({ url: options.url, connectionName: options.connectionName ?? `mailroom console link ${node.localModules.join(',') || 'console'}`, retryLow: 100, retryHigh: 5_000 })
      connection.on('error', (error) => node.onError(error, "the console link's broker connection"))
      // Not waited for: reports and commands start once the connection is up (the transport's start
      // already waited for the broker), and a console link never holds up a bus.
      brokerConsole = connectBrokerConsole({
        connection,
        node,
        statusExchange: names.status,
        controlExchange: names.control,
        queuePrefix: `${options.namespace ?? 'mailroom'}.process`,
        isConsole: options.console ?? false,
        queueOf: names.queueOf,
      })
    },
    async stop() {
      await brokerConsole?.stop()
      await connection?.close()
    },
  }
}
