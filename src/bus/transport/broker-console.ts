import { randomUUID } from 'node:crypto'
import type { Connection, Consumer, Publisher } from 'rabbitmq-client'
import { readQueueLengths } from './amqp-wire.js'
import type { ConsoleNode, RemoteModules } from '../console-link/console-link.js'
import { applyCommand, reportOf, staleAfterMs, watchRemoteModules, type StatusReport } from '../console-link/remote-view.js'

export { moduleTotals } from '../console-link/remote-view.js'

export interface BrokerConsoleOptions {
  connection: Connection
  node: ConsoleNode
  /** Fanout exchange every process reports its modules to, once a second. */
  statusExchange: string
  /** Direct exchange that carries a person's commands (stop, start, faults) to the module's process. */
  controlExchange: string
  /** Name prefix of this process's own (exclusive, temporary) queues. */
  queuePrefix: string
  /** This process hosts the console: it listens to every report and sends commands. */
  isConsole: boolean
  queueOf: (module: string) => string
  reportEveryMs?: number
}

/**
 * The console's view of modules that run in other processes, over the broker: each process reports its
 * modules' status and latest log lines once a second (transient messages that expire), and takes
 * commands for its modules. The console keeps the latest report per module (console-link/remote-view.ts).
 */
export function connectBrokerConsole(options: BrokerConsoleOptions): { remote: RemoteModules | undefined; stop(): Promise<void> } {
  const { connection, node } = options
  const everyMs = options.reportEveryMs ?? 1_000
  const exchanges = [
    { exchange: options.statusExchange, type: 'fanout', durable: true },
    { exchange: options.controlExchange, type: 'direct', durable: true },
  ]
  const publisher: Publisher = connection.createPublisher({ exchanges })
  const ownQueue = (purpose: string) => `${options.queuePrefix}.${purpose}.${randomUUID().slice(0, 8)}`
  const consumers: Consumer[] = []
  const stops: (() => void)[] = []
  if (node.localModules.length > 0) {
    // A process running modules: reports them once a second, and takes a person's commands for them.
    const timer = setInterval(() => {
      if (!connection.ready) return
      publisher.send({ exchange: options.statusExchange, routingKey: '', durable: false, expiration: String(staleAfterMs) }, reportOf(node)).catch(() => {})
    }, everyMs)
    timer.unref()
    stops.push(() => clearInterval(timer))
    consumers.push(
      connection.createConsumer(
        { queue: ownQueue('control'), queueOptions: { exclusive: true, autoDelete: true }, exchanges, queueBindings: node.localModules.map((module) => ({ queue: '', exchange: options.controlExchange, routingKey: module })) },
        (message) => applyCommand(node, message.body),
      ),
    )
  }
  let remote: RemoteModules | undefined
  if (options.isConsole) {
    const view = watchRemoteModules(
      node,
      {
        ready: () => connection.ready,
        command: async (command) => void (await publisher.send({ exchange: options.controlExchange, routingKey: command.module, durable: false, expiration: command.action === 'watch' ? String(staleAfterMs) : undefined }, command)),
        queueLengths: (modules) => readQueueLengths(connection, modules, options.queueOf),
      },
      everyMs,
    )
    remote = view.remote
    stops.push(() => view.stop())
    consumers.push(
      connection.createConsumer(
        { queue: ownQueue('status'), queueOptions: { exclusive: true, autoDelete: true }, exchanges, queueBindings: [{ queue: '', exchange: options.statusExchange, routingKey: '' }] },
        (message) => view.onReport(message.body as StatusReport),
      ),
    )
  }
  return {
    remote,
    async stop() {
      for (const stop of stops) stop()
      await Promise.all(consumers.map((consumer) => consumer.close()))
      await publisher.close()
    },
  }
}
