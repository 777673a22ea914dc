import type { Clock } from '../clock.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import type { BusEmitter, LogLevel, LogLine } from '../signals.js'
import { createLogOutput, type BusLogger, type LoggedMessage } from './bus-logger.js'

/** Writes one line of a module's log. */
export type ModuleLog = (module: string, level: LogLevel, text: string, fields?: Record<string, unknown>, message?: LoggedMessage) => void

/**
 * A module's log line goes three ways: the module's panel keeps its last lines, the signals carry it to
 * live consoles, and the application's pino logger (when given) writes it with the message's ids.
 */
export function createModuleLog(deps: { clock: Clock; local: LocalModules; signals: BusEmitter; logger: BusLogger | undefined }): ModuleLog {
  const { clock, local, signals } = deps
  const output = deps.logger ? createLogOutput(deps.logger) : undefined
  return (module, level, text, fields, message) => {
    const line: LogLine = { module, level, text, at: clock.now() }
    // An Error (pino's `err`) as its type and message: the panel's lines travel as JSON, where an Error is `{}`.
    if (fields) line.fields = fields.err instanceof Error ? { ...fields, err: `${fields.err.name}: ${fields.err.message}` } : fields
    if (message) {
      line.messageId = message.messageId
      if (message.traceId) line.traceId = message.traceId
    }
    local.find(module)?.remember(line)
    signals.emit('log', line)
    output?.(module, level, text, fields, message)
  }
}
