import { InjectedFaultError } from '../errors.js'
import { defineBehavior, type Behavior } from '../pipeline/behavior.js'

/** One module's faults: every attempt fails, or this share of them (0..1). */
export interface FaultState {
  injected: boolean
  rate: number
}

/**
 * Faults on purpose, for teaching and chaos runs: a behavior that fails a module's attempts while a
 * person (the console, `bus.admin.setFault` / `setFaultRate`) says so. Installed with
 * `createBus({ behaviors: [faultInjection()] })`; a bus without it has no fault check on its path.
 */
export interface FaultInjection extends Behavior {
  state(module: string): FaultState
  /** Returns whether that changed anything. */
  set(module: string, injected: boolean): boolean
  setRate(module: string, rate: number): boolean
}

const faultInjectionMark = Symbol('mailroom.fault-injection')

export function faultInjection(options: { random?: () => number } = {}): FaultInjection {
  const random = options.random ?? Math.random
  const states = new Map<string, FaultState>()
  const stateOf = (module: string) => {
    let state = states.get(module)
    if (!state) states.set(module, (state = { injected: false, rate: 0 }))
    return state
  }
  const behavior = defineBehavior({
    name: 'fault-injection',
    before(message) {
      const state = states.get(message.module)
      if (state && (state.injected || (state.rate > 0 && random() < state.rate))) throw new InjectedFaultError(message.module)
    },
  })
  return Object.assign(behavior, {
    [faultInjectionMark]: true,
    state: (module: string) => ({ ...stateOf(module) }),
    set(module: string, injected: boolean) {
      const state = stateOf(module)
      if (state.injected === injected) return false
      state.injected = injected
      return true
    },
    setRate(module: string, rate: number) {
      const state = stateOf(module)
      if (state.rate === rate) return false
      state.rate = rate
      return true
    },
  })
}

export function isFaultInjection(behavior: Behavior): behavior is FaultInjection {
  return (behavior as unknown as Record<symbol, unknown>)[faultInjectionMark] === true
}
