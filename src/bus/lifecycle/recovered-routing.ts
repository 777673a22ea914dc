import type { DeliveryState } from '../delivery/delivery.js'
import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import type { MessageStore, Recovered } from '../persistence/persistence.js'
import type { ErrorQueue } from '../recoverability/error-queue.js'
import type { Transport } from '../transport/transport.js'

/**
 * What recovery found goes where it would have gone had the process not stopped. Pending deliveries
 * (kind undefined) travel through the transport; those a record here holds (a retried message, a
 * delayed retry, a failed one) belong to this process's modules, scheduler and error queue.
 */

/**
 * Replay leaves pending messages on disk. A local queue reads them back in its turn; what goes to the
 * broker, or waits for a time, needs its message now.
 */
export async function readBackLeaving(recovered: Recovered, transport: Transport, persistence: MessageStore): Promise<void> {
  const leaving = recovered.delayed.filter((delivery) => delivery.kind === undefined)
  if (transport.reachesOtherProcesses) {
    leaving.push(...recovered.elsewhere)
    for (const deliveries of recovered.queued.values()) leaving.push(...deliveries.filter((delivery) => delivery.kind === undefined))
  }
  for (const [delivery, env] of await persistence.readBack(leaving)) delivery.env ??= env
}

export interface RecoveredRoutes {
  local: LocalModules
  transport: Transport
  dispatcher: Dispatcher
  errorQueue: ErrorQueue
}

/** Queues, schedules and lists what recovery found; returns how many deliveries were queued. */
export function routeRecovered(recovered: Recovered, { local, transport, dispatcher, errorQueue }: RecoveredRoutes): number {
  let queued = 0
  for (const [module, deliveries] of recovered.queued) {
    const runtime = local.get(module)
    if (!transport.reachesOtherProcesses) for (const delivery of deliveries) runtime.enqueue(delivery)
    else {
      // Through the broker (the module's one queue), except what a record here holds.
      const pending: DeliveryState[] = []
      for (const delivery of deliveries) {
        if (delivery.kind === undefined) pending.push(delivery)
        else runtime.enqueue(delivery)
      }
      transport.deliver(pending)
    }
    queued += deliveries.length
  }
  if (transport.reachesOtherProcesses) transport.deliver(recovered.elsewhere)
  // Delayed retries are records here; deferred messages wait at the broker when it holds them.
  for (const delivery of recovered.delayed) {
    if (delivery.kind === undefined && transport.holdsDeferred) transport.deliver([delivery])
    else dispatcher.delay(delivery)
  }
  for (const delivery of recovered.failed) errorQueue.add(delivery)
  return queued
}
