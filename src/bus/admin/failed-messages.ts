import type { DeliveryState } from '../delivery/delivery.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import type { MessageStore } from '../persistence/persistence.js'
import { failedKey, toFailedMessage, type ErrorQueue } from '../recoverability/error-queue.js'
import { forRetry } from '../recoverability/failure-headers.js'
import { deliverySignal, type BusEmitter } from '../signals.js'
import { loggedMessage } from '../telemetry/bus-logger.js'
import type { ModuleLog } from '../telemetry/module-log.js'
import type { Transport } from '../transport/transport.js'
import type { AdminApi, DeleteResult, RetryResult } from './admin-api.js'

export interface FailedMessagesDeps {
  persistence: MessageStore
  errorQueue: ErrorQueue
  local: LocalModules
  transport: Transport
  signals: BusEmitter
  requireRunning: (action: string) => void
  /** Counts the work as activity, so bus.idle() and bus.stop() wait for it. */
  tracked: <T>(work: () => Promise<T>) => Promise<T>
  now: () => number
  log: ModuleLog
}

/**
 * The error queue as people work it: list, retry (one, some, all) and delete. Local failures are
 * journal records; with a broker, the broker's error queue is worked the same way.
 */
export function createFailedMessages(deps: FailedMessagesDeps): Pick<AdminApi, 'failedMessages' | 'retryFailed' | 'retryAllFailed' | 'deleteFailed'> {
  const { persistence, errorQueue, local, signals, requireRunning, tracked, now, log } = deps

  /** Puts deliveries taken from the error queue back in their queues; a failed write returns them to the error queue. */
  function retry(deliveries: DeliveryState[]): Promise<string[]> {
    return tracked(async () => {
      const retried: string[] = []
      await Promise.all(
        deliveries.map(async (delivery) => {
          const env = forRetry(delivery.env!)
          try {
            await persistence.commit(delivery.module, delivery, { kind: 'retried', env })
          } catch (error) {
            errorQueue.add(delivery)
            throw error
          }
          retried.push(failedKey(delivery.module, delivery.id))
          signals.emit('message:retried', deliverySignal(delivery.module, env, now()))
          log(delivery.module, 'info', `Retrying ${env.type} from the error queue`, undefined, loggedMessage(env))
          local.get(delivery.module).enqueue(delivery)
        }),
      )
      return retried
    })
  }

  /** Messages of the broker's error queue (with a broker transport, in the console's process) back to their modules. */
  async function retryAtBroker(idsOrKeys: readonly string[]): Promise<RetryResult> {
    const remote = deps.transport.errorQueue
    if (!remote || idsOrKeys.length === 0) return { retried: [], notFound: [...idsOrKeys] }
    const result = await tracked(() => remote.retry(idsOrKeys))
    for (const key of result.retried) {
      const [module] = key.split(':')
      log(module!, 'info', `Retrying ${key} from the broker's error queue`)
    }
    return result
  }

  /** Archives deliveries taken from the error queue; a failed write returns them to it. */
  async function archive(taken: DeliveryState[]): Promise<string[]> {
    const deleted: string[] = []
    await tracked(() =>
      Promise.all(
        taken.map(async (delivery) => {
          const signal = deliverySignal(delivery.module, delivery.env!, now())
          try {
            await persistence.commit(delivery.module, delivery, { kind: 'archived' })
          } catch (error) {
            errorQueue.add(delivery)
            throw error
          }
          deleted.push(failedKey(delivery.module, delivery.id))
          signals.emit('message:archived', signal)
        }),
      ),
    )
    return deleted
  }

  return {
    failedMessages: () => [...errorQueue.all().map(toFailedMessage), ...(deps.transport.errorQueue?.list() ?? [])].sort((a, b) => b.failedAt - a.failedAt),
    async retryFailed(idsOrKeys): Promise<RetryResult> {
      requireRunning('retry failed messages')
      // Taken out synchronously: a second click finds them gone and sends nothing twice.
      const { taken, notFound } = errorQueue.take(idsOrKeys)
      const remote = await retryAtBroker(notFound)
      return { retried: [...(await retry(taken)), ...remote.retried], notFound: remote.notFound }
    },
    async retryAllFailed(): Promise<RetryResult> {
      requireRunning('retry failed messages')
      const { taken } = errorQueue.take(errorQueue.all().map((delivery) => failedKey(delivery.module, delivery.id)))
      const remote = await retryAtBroker(deps.transport.errorQueue?.list().map((message) => message.key) ?? [])
      return { retried: [...(await retry(taken)), ...remote.retried], notFound: [] }
    },
    async deleteFailed(idsOrKeys): Promise<DeleteResult> {
      requireRunning('delete failed messages')
      const here = errorQueue.take(idsOrKeys)
      const broker = deps.transport.errorQueue
      const remote = broker && here.notFound.length > 0 ? await tracked(() => broker.delete(here.notFound)) : { deleted: [], notFound: here.notFound }
      const deleted = await archive(here.taken)
      return { deleted: [...deleted, ...remote.deleted], notFound: remote.notFound }
    },
  }
}
