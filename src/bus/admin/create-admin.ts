import type { ConsoleLink } from '../console-link/console-link.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import type { FaultInjection } from '../faults/fault-injection.js'
import type { Persistence } from '../persistence/persistence.js'
import type { ErrorQueue } from '../recoverability/error-queue.js'
import type { Topology } from '../routing/topology.js'
import type { BusEmitter } from '../signals.js'
import type { ModuleLog } from '../telemetry/module-log.js'
import type { Transport } from '../transport/transport.js'
import type { AdminApi } from './admin-api.js'
import { createFailedMessages } from './failed-messages.js'
import { KnownModules } from './known-modules.js'
import { createModuleControl } from './module-control.js'
import { createModuleStatus } from './module-status.js'

export interface AdminDeps {
  topology: Topology
  persistence: Persistence
  signals: BusEmitter
  errorQueue: ErrorQueue
  /** The modules this process runs. */
  local: LocalModules
  isRunning: () => boolean
  requireRunning: (action: string) => void
  /** Counts the work as activity, so bus.idle() and bus.stop() wait for it. */
  tracked: <T>(work: () => Promise<T>) => Promise<T>
  now: () => number
  transport: Transport
  /** The bus's fault injection, when it has the behavior installed (admin.setFault needs it). */
  faults: FaultInjection | undefined
  /** How this process sees the modules of others, when a console link was given. */
  consoleLink: ConsoleLink | undefined
  log: ModuleLog
}

/**
 * The operations people (through the web console) and scripts perform on a running bus, in three parts:
 * what they read of the modules (admin/module-status.ts), what they do to them (admin/module-control.ts)
 * and how they work the error queue (admin/failed-messages.ts).
 */
export function createAdmin(deps: AdminDeps): AdminApi {
  const modules = new KnownModules(deps.topology, deps.local, deps.consoleLink)
  return {
    events: deps.signals,
    ...createModuleStatus({ ...deps, modules }),
    ...createModuleControl({ ...deps, modules }),
    ...createFailedMessages(deps),
  }
}
