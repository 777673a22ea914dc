import type { ConsoleLink, RemoteModules } from '../console-link/console-link.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import type { Topology } from '../routing/topology.js'

/**
 * The modules the admin API can name: this process's, and with a console link, those other processes
 * run (their status, logs and views come from their reports; commands to them go over the link).
 */
export class KnownModules {
  constructor(
    private readonly topology: Topology,
    readonly local: LocalModules,
    private readonly consoleLink: ConsoleLink | undefined,
  ) {}

  /** How this process sees the modules of others, when a console link was given. */
  get remote(): RemoteModules | undefined {
    return this.consoleLink?.remoteModules
  }

  /** Throws ModuleNotFoundError unless the module runs here or (with a console here) in another process. */
  require(name: string): void {
    if (!this.local.has(name) && !(this.remote && this.topology.modules.has(name))) this.local.get(name)
  }

  /** With a console link: every module of the topology that does not run here. */
  remoteNames(): string[] {
    return this.remote ? [...this.topology.modules.keys()].filter((name) => !this.local.has(name)) : []
  }
}
