import { FaultInjectionNotInstalledError, InvalidAdminArgumentError } from '../errors.js'
import type { FaultInjection } from '../faults/fault-injection.js'
import type { BusEmitter } from '../signals.js'
import type { ModuleLog } from '../telemetry/module-log.js'
import type { AdminApi } from './admin-api.js'
import type { KnownModules } from './known-modules.js'

export interface ModuleControlDeps {
  modules: KnownModules
  signals: BusEmitter
  isRunning: () => boolean
  /** The bus's fault injection, when it has the behavior installed (admin.setFault needs it). */
  faults: FaultInjection | undefined
  log: ModuleLog
}

/** What people do to modules: stop and start them, inject faults. A module of another process gets the command over the console link. */
export function createModuleControl(deps: ModuleControlDeps): Pick<AdminApi, 'stopModule' | 'startModule' | 'setFault' | 'setFaultRate'> {
  const { modules: known, signals, log } = deps
  const { local } = known

  /** The fault-injection behavior, or a clear error when the bus was created without it. */
  function faultsOf(): FaultInjection {
    if (!deps.faults) throw new FaultInjectionNotInstalledError()
    return deps.faults
  }

  /** Sends a person's command to the process that runs the module; reported back as a bus error if the broker refuses it. */
  function command(name: string, action: 'stop' | 'start' | 'fault' | 'fault-rate', extra: { on?: boolean; rate?: number } = {}): void {
    known.require(name)
    void known
      .remote!.control({ module: name, action, ...extra })
      .catch((error: unknown) => signals.emit('bus:error', { error, during: `sending '${action}' to ${name}` }))
  }

  return {
    stopModule(name) {
      if (!local.has(name) && known.remote) return command(name, 'stop')
      const runtime = local.get(name)
      // Held by a person: it stays stopped across bus.start() until started again.
      if (!local.hold(name)) return
      runtime.stop()
      signals.emit('module:stopped', { module: name })
      log(name, 'warn', 'Module stopped: messages wait in its queue')
    },
    startModule(name) {
      if (!local.has(name) && known.remote) return command(name, 'start')
      const runtime = local.get(name)
      if (!local.release(name) || !deps.isRunning()) return
      log(name, 'info', `Module started: ${runtime.queueLength} waiting`)
      signals.emit('module:started', { module: name })
      runtime.start()
    },
    setFault(name, on) {
      if (!local.has(name) && known.remote) return command(name, 'fault', { on })
      local.get(name)
      if (!faultsOf().set(name, on)) return
      log(name, on ? 'warn' : 'info', on ? 'Fault injected: every handler of this module now throws' : 'Fault removed')
    },
    setFaultRate(name, rate) {
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new InvalidAdminArgumentError('rate', 'a number from 0 to 1', rate)
      if (!local.has(name) && known.remote) return command(name, 'fault-rate', { rate })
      local.get(name)
      if (!faultsOf().setRate(name, rate)) return
      log(name, rate > 0 ? 'warn' : 'info', rate > 0 ? `Fault rate set: ${Math.round(rate * 100)}% of handler attempts now fail` : 'Fault rate removed')
    },
  }
}
