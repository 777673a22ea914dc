import { join } from 'node:path'
import type { Clock } from '../clock.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState } from '../delivery/delivery.js'
import type { FileSystem } from '../files/file-system.js'
import type { BrokerInbox } from '../persistence/persistence.js'
import type { ParkedAtBroker } from './parked-at-broker.js'
import type { FailureRecord } from '../delivery/delivery.js'
import type { FailedMessage } from '../recoverability/error-queue.js'
import type { Topology } from '../routing/topology.js'
import type { BusEmitter } from '../signals.js'
import type { Delivery, ReceiveOutcome, TransportHost } from './transport.js'

export interface TransportHostDeps {
  topology: Topology
  /** The modules this process runs. */
  local: LocalModules
  persistence: BrokerInbox
  /** Deliveries the broker took into its delay or error queues (the failure sink marks them). */
  parked: ParkedAtBroker
  signals: BusEmitter
  clock: Clock
  fileSystem: FileSystem
  dataDir: string
  isRunning: () => boolean
  /** Wakes bus.idle() waiters if nothing is pending any more. */
  notifyIfQuiet: () => void
}

/**
 * The bus's side of a transport: what a broker's message becomes here (a delivery acknowledged once
 * its outcome is on disk, or recognised as a redelivery), what the broker confirmed, and what this
 * process reports to a console in another one.
 */
export function createTransportHost(deps: TransportHostDeps): TransportHost & {
  /** On stop: broker messages queued here and never started go back to the broker. */
  releaseAwaiting(): void
} {
  const { persistence, signals, clock, local, parked } = deps
  const moduleNames = local.names
  const awaitingOutcome = new Set<DeliveryState>()
  function receive(module: string, env: Envelope, failures?: FailureRecord[], receipt?: string): Promise<ReceiveOutcome> {
    const runtime = local.find(module)
    if (!runtime || !deps.isRunning()) return Promise.resolve('requeue')
    const known = persistence.deliveryOf(env.id, module)
    // Handled (or owned by a record here, delayed or failed) already, or being handled now: a redelivery.
    // A parked one may come back: a person retried it, or its delay at the broker is over.
    if (known && (known.settled || (known.kind !== undefined && known.kind !== 'forwarded' && known.kind !== 'parked'))) return Promise.resolve('ack')
    const delivery = persistence.received(env, module, clock.now(), receipt)
    // A delayed retry coming back from the broker: its earlier attempts come with it.
    if (failures) delivery.failures = failures
    return new Promise<ReceiveOutcome>((resolve) => {
      awaitingOutcome.add(delivery)
      delivery.settled = (settled) => {
        settled.settled = undefined
        awaitingOutcome.delete(settled)
        if (settled.kind === undefined || settled.kind === 'forwarded' || (settled.kind === 'parked' && !parked.take(settled))) {
          // Nothing was written (the journal failed): the broker keeps the message and delivers it again.
          persistence.forget(settled)
          resolve('requeue')
        } else resolve(persistence.consumedAtSource(settled) ? 'consumed' : 'ack')
      }
      runtime.enqueue(delivery)
    })
  }

  /**
   * A delivery a transport hands back is one the bus handed it (deliver): the bus's own state, seen
   * through the read-only Delivery a transport works with.
   */
  const own = (delivery: Delivery) => delivery as DeliveryState

  /** Records, per producing journal, that the broker took these deliveries. */
  async function forwarded(deliveries: readonly Delivery[]): Promise<void> {
    await persistence.forwarded(deliveries.map(own))
  }

  /** A message deleted from the broker's error queue, kept as one JSON line (synced) before the broker forgets it. */
  async function archive(message: FailedMessage): Promise<void> {
    await deps.fileSystem.mkdir(deps.dataDir)
    const handle = await deps.fileSystem.openAppend(join(deps.dataDir, 'broker-error-archive.jsonl'))
    try {
      await handle.append(Buffer.from(`${JSON.stringify({ archivedAt: clock.now(), ...message })}\n`))
      await handle.sync()
    } finally {
      await handle.close()
    }
  }

  return {
    topology: deps.topology,
    localModules: moduleNames,
    now: () => clock.now(),
    enqueueLocal: (delivery) => local.find(delivery.module)?.enqueue(own(delivery)),
    receive,
    forwarded,
    archive,
    drained: () => deps.notifyIfQuiet(),
    onError: (error, during) => signals.emit('bus:error', { error, during }),
    releaseAwaiting() {
      for (const delivery of [...awaitingOutcome]) delivery.settled?.(delivery)
    },
  }
}
