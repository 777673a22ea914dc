import type { BusOptions, ResolvedBusOptions } from './bus-options.js'
import type { DeliveryState } from './delivery/delivery.js'
import { createOutbox } from './outbox/outbox.js'
import type { Persistence } from './persistence/persistence.js'

export interface BusPersistenceDeps {
  options: BusOptions
  resolved: ResolvedBusOptions
  onError: (error: unknown, during: string) => void
  /** Deliveries the persistence found pending by itself (a database's relay): the bus dispatches them while it runs. */
  relay: (deliveries: DeliveryState[]) => void
}

/**
 * The bus's persistence: the one `createBus({ persistence })` names (a database), or journal files in the
 * data directory. With this file and create-bus.ts, nothing of the bus imports the journal files' code.
 */
export function createBusPersistence({ options, resolved, onError, relay }: BusPersistenceDeps): Persistence {
  const { moduleNames, allNames, audit, clock, transport } = resolved
  if (resolved.persistence) {
    return resolved.persistence({
      modules: moduleNames,
      allModules: allNames,
      tables: resolved.allTablesByModule,
      audit: audit !== undefined,
      ...(audit ? { auditMaxAgeMs: audit.maxAgeMs, auditMaxConversations: audit.maxConversations } : {}),
      concurrency: options.modules.filter((module) => moduleNames.includes(module.name)).reduce((sum, module) => sum + module.concurrency, 0),
      clock,
      reachesOtherProcesses: transport.reachesOtherProcesses,
      ...(transport.queueTables ? { queues: transport.queueTables } : {}),
      onError,
      relay,
    })
  }
  return createOutbox({
    fs: resolved.fileSystem,
    dataDir: resolved.dataDir,
    modules: moduleNames,
    tables: resolved.tablesByModule,
    audit: audit !== undefined,
    maxSegmentBytes: resolved.maxSegmentBytes,
    compaction: resolved.compaction,
    clock,
    holdConsumedMs: resolved.holdConsumedMs,
    onError,
  })
}
