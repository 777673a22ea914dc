import mittModule, { type Emitter, type EventType } from 'mitt'
import type { FailureRecord } from './outbox/record.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface LogLine {
  module: string
  level: LogLevel
  text: string
  fields?: Record<string, unknown>
  messageId?: string
  at: number
}

/**
 * In-process notifications for the console and tests. They say what happened; the journal is the truth
 * (a listener that misses a signal loses nothing but a screen update).
 */
export type BusSignals = {
  'message:handled': { module: string; id: string; type: string; conversationId: string; durationMs: number; criticalTimeMs: number }
  'message:failed': {
    module: string
    id: string
    type: string
    failure: FailureRecord
    /** What happens next to the message. */
    next: 'immediate-retry' | 'delayed-retry' | 'error-queue'
    delayMs?: number
  }
  'message:retried': { module: string; id: string; type: string }
  'message:archived': { module: string; id: string; type: string }
  log: LogLine
  'module:started': { module: string }
  'module:stopped': { module: string }
  'journal:torn-tail': { file: string; offset: number; droppedBytes: number; reason: string }
  'bus:error': { error: unknown; during: string }
}

export type BusEmitter = Emitter<BusSignals>

// mitt's typings are CommonJS-shaped; under ESM its default export is the factory itself.
const mitt = mittModule as unknown as <Events extends Record<EventType, unknown>>() => Emitter<Events>

export function createSignals(): BusEmitter {
  return mitt<BusSignals>()
}
