/** A saga instance's change, as one `handled` (or carried `saga`) journal record holds it. */
export interface SagaChange {
  saga: string
  /** The correlation id. */
  id: string
  /** Which instance of that correlation id: the id of the message that started it. Absent when `done`. */
  instance?: string
  /** The instance's data after the message; absent when `done`. */
  data?: unknown
  /** The instance completed: its data is gone. */
  done?: true
}

export interface SagaInstance {
  saga: string
  id: string
  instance: string
  data: unknown
}

/** The ledger tracks a saga instance like a delivery, under this id; message ids are UUIDs, so they never clash. */
export function sagaKey(saga: string, id: string): string {
  return `saga\u0000${saga}\u0000${id}`
}

export function parseSagaKey(key: string): { saga: string; id: string } | undefined {
  if (!key.startsWith('saga\u0000')) return undefined
  const second = key.indexOf('\u0000', 5)
  return second === -1 ? undefined : { saga: key.slice(5, second), id: key.slice(second + 1) }
}

/**
 * The active saga instances of every module, as the journals say: rebuilt by replay, changed only when
 * a record that changes them is synced. Handlers get copies; nothing else writes here.
 */
export class SagaStore {
  readonly #byModule = new Map<string, Map<string, SagaInstance>>()

  get(module: string, saga: string, id: string): SagaInstance | undefined {
    return this.#byModule.get(module)?.get(sagaKey(saga, id))
  }

  apply(module: string, change: SagaChange): void {
    let instances = this.#byModule.get(module)
    if (!instances) this.#byModule.set(module, (instances = new Map()))
    const key = sagaKey(change.saga, change.id)
    if (change.done) instances.delete(key)
    else instances.set(key, { saga: change.saga, id: change.id, instance: change.instance ?? '', data: change.data })
  }

  /** Every active instance of `module` at once, as another store (a shared database) has them. */
  replace(module: string, instances: readonly SagaInstance[]): void {
    this.#byModule.set(module, new Map(instances.map((instance) => [sagaKey(instance.saga, instance.id), instance])))
  }

  count(module: string): number {
    return this.#byModule.get(module)?.size ?? 0
  }

  list(module: string): SagaInstance[] {
    return [...(this.#byModule.get(module)?.values() ?? [])]
  }
}
