import type { PersistenceFactory } from '../persistence/persistence.js'
import type { Transport } from '../transport/transport.js'

/**
 * What any transport must do, as checks a transport's own tests run (test/transport/conformance.test.ts
 * runs them against the embedded transport, test/transport/conformance-amqp.test.ts against RabbitMQ, test/postgres/transport-conformance.test.ts against PostgreSQL). Each check builds the same small shop on
 * buses using the transport: one bus with every module for a transport that stays in its process, two
 * (two "processes", orders and payments) for one that reaches other processes. A check throws an Error
 * saying what the transport got wrong.
 */
export interface TransportConformanceOptions {
  /** A new transport for one bus. A check that needs two processes calls it twice; each check starts afresh. */
  /** `role.console`: the bus that hosts the console (it lists the error queue of a transport that holds one). */
  create(check: string, role?: { console: boolean }): Transport
  /**
   * The persistence of every bus of a check, if not journal files in memory: e.g. a database's, which the
   * buses of one check share (as instances of a module do) and find again after the check's restart.
   */
  persistence?(check: string): PersistenceFactory
  /** How long a check waits for its messages. @default 15_000 */
  timeoutMs?: number
}

export interface TransportCheck {
  name: string
  run(options: TransportConformanceOptions): Promise<void>
}
