import type { AdminApi } from '../admin/admin-api.js'
import { conversationViewPrefix } from '../audit/conversation-step.js'
import type { BusEmitter } from '../signals.js'
import type { ConsoleNode, ForwardedSignal, ModuleViews } from './console-link.js'

export interface ConsoleNodeDeps {
  localModules: readonly string[]
  allModules: readonly string[]
  admin: AdminApi
  signals: BusEmitter
  views: ModuleViews
}

/**
 * The bus's side of a console link: what this process reports of its modules (status, log lines, its
 * delivery signals, the views a console asked for) and how a person's command from another process's
 * console reaches them. The signals of other processes' modules it re-emits here, for a console here.
 */
export function createConsoleNode(deps: ConsoleNodeDeps): ConsoleNode & { stop(): void } {
  const { localModules, admin, signals } = deps
  /** Per local module, the keys a console asked to see. */
  const watchedKeys = new Map<string, string[]>()
  /** Views read for the last report: a view may read from disk (module data), a report is made at once. */
  const viewValues = new Map<string, Map<string, unknown>>()
  let readingViews = false
  let readAgain = false
  function readViews(): void {
    if (readingViews) {
      readAgain = true
      return
    }
    readingViews = true
    void Promise.all(
      localModules.map(async (name) => {
        const view = deps.views[name]
        const values = new Map<string, unknown>()
        for (const key of watchedKeys.get(name) ?? []) {
          // A conversation the console shows: this module's steps of it, from its durable audit.
          if (key.startsWith(conversationViewPrefix)) {
            const steps = await admin.conversation(key.slice(conversationViewPrefix.length))
            values.set(key, steps.filter((step) => step.to === name))
          } else if (view) values.set(key, await view(key))
        }
        viewValues.set(name, values)
      }),
    )
      .catch((error: unknown) => signals.emit('bus:error', { error, during: 'reading the views the console asked for' }))
      .finally(() => {
        readingViews = false
        if (readAgain) {
          readAgain = false
          readViews()
        }
      })
  }

  /**
   * The delivery signals since the last report, for a console in another process (its conversation
   * diagrams). Bounded: under a flood the oldest are dropped, and the diagram then has gaps.
   */
  const signalsToReport: ForwardedSignal[] = []
  const keep = (signal: ForwardedSignal) => {
    // Only this process's own deliveries: a console here re-emits other processes' signals too.
    if (!localModules.includes(signal.payload.module)) return
    signalsToReport.push(signal)
    if (signalsToReport.length > 2_000) signalsToReport.splice(0, signalsToReport.length - 2_000)
  }
  const listeners = {
    'message:handled': (payload: ForwardedSignal['payload']) => keep({ name: 'message:handled', payload } as ForwardedSignal),
    'message:failed': (payload: ForwardedSignal['payload']) => keep({ name: 'message:failed', payload } as ForwardedSignal),
    'message:retried': (payload: ForwardedSignal['payload']) => keep({ name: 'message:retried', payload } as ForwardedSignal),
    'message:archived': (payload: ForwardedSignal['payload']) => keep({ name: 'message:archived', payload } as ForwardedSignal),
  }
  if (localModules.length > 0) for (const [name, listener] of Object.entries(listeners)) signals.on(name as keyof typeof listeners, listener as never)

  return {
    localModules,
    allModules: deps.allModules,
    report() {
      readViews()
      return {
        modules: admin.modules().filter((module) => localModules.includes(module.name)),
        logs: Object.fromEntries(localModules.map((name) => [name, admin.logs(name).slice(-50)])),
        signals: signalsToReport.splice(0),
        views: Object.fromEntries(
          localModules.map((name) => {
            const values = viewValues.get(name)
            return [name, values ? Object.fromEntries((watchedKeys.get(name) ?? []).filter((key) => values.has(key)).map((key) => [key, values.get(key)])) : {}]
          }),
        ),
      }
    },
    remoteSignal(signal) {
      // Another process's report: a listener here that cannot take it must not end this process.
      try {
        signals.emit(signal.name, signal.payload as never)
      } catch (error) {
        signals.emit('bus:error', { error, during: `taking a ${signal.name} signal reported by another process` })
      }
    },
    remoteLog: (line) => signals.emit('log', line),
    remoteViewChanged: (module) => signals.emit('module:reported', { module }),
    control(command) {
      if (command.action === 'watch') {
        watchedKeys.set(command.module, Array.isArray(command.keys) ? command.keys.filter((key) => typeof key === 'string').slice(0, 200) : [])
        // Read now, so the next report (within a second) carries the answer.
        readViews()
      } else if (command.action === 'stop') admin.stopModule(command.module)
      else if (command.action === 'start') admin.startModule(command.module)
      else if (command.action === 'fault') admin.setFault(command.module, command.on === true)
      else if (command.action === 'fault-rate' && typeof command.rate === 'number') admin.setFaultRate(command.module, command.rate)
    },
    onError: (error, during) => signals.emit('bus:error', { error, during }),
    stop() {
      for (const [name, listener] of Object.entries(listeners)) signals.off(name as keyof typeof listeners, listener as never)
    },
  }
}
