import { ModuleNotFoundError } from '../errors.js'
import type { ModuleRuntime } from './module-runtime.js'

/**
 * The modules this process runs: their runtimes, which of them a person stopped (they stay stopped across
 * `bus.start()` until started again), and how many of their messages wait for a time. The bus, its admin
 * API and its transport host share this one component instead of the bus's own Map and Set.
 */
export class LocalModules {
  private readonly runtimes = new Map<string, ModuleRuntime>()
  private readonly held = new Set<string>()
  private readonly delayedCounts = new Map<string, number>()

  constructor(readonly names: readonly string[]) {}

  add(runtime: ModuleRuntime): void {
    this.runtimes.set(runtime.name, runtime)
    this.delayedCounts.set(runtime.name, 0)
  }

  has(name: string): boolean {
    return this.runtimes.has(name)
  }

  /** The module's runtime; ModuleNotFoundError for one this process does not run. */
  get(name: string): ModuleRuntime {
    const runtime = this.runtimes.get(name)
    if (!runtime) throw new ModuleNotFoundError(name, this.names)
    return runtime
  }

  /** The runtime, or undefined for a module of another process. */
  find(name: string): ModuleRuntime | undefined {
    return this.runtimes.get(name)
  }

  all(): IterableIterator<ModuleRuntime> {
    return this.runtimes.values()
  }

  /** A person stopped it; returns false when it already was. */
  hold(name: string): boolean {
    if (this.held.has(name)) return false
    this.held.add(name)
    return true
  }

  /** A person started it again; returns false when it was not stopped by a person. */
  release(name: string): boolean {
    return this.held.delete(name)
  }

  /** Whether no module has a delivery under way, nor a queue it is working on (a stopped module's may wait). */
  settled(): boolean {
    for (const runtime of this.runtimes.values()) {
      if (runtime.unsettled > 0 || (runtime.running && runtime.queueLength > 0)) return false
    }
    return true
  }

  /** Starts every module a person has not stopped. */
  startAll(): void {
    for (const runtime of this.runtimes.values()) if (!this.held.has(runtime.name)) runtime.start()
  }

  /** Stops every module and waits until none has a message in flight. */
  async stopAll(): Promise<void> {
    for (const runtime of this.runtimes.values()) runtime.stop()
    await Promise.all([...this.runtimes.values()].map((runtime) => runtime.settled()))
  }

  delayed(name: string): number {
    return this.delayedCounts.get(name) ?? 0
  }

  /** One more (or, with -1, one less) of the module's messages waits for a time. */
  countDelayed(name: string, change: 1 | -1): void {
    this.delayedCounts.set(name, this.delayed(name) + change)
  }
}
