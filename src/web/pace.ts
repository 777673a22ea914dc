import type { ModuleStatus } from '../bus/index.js'

/**
 * How long a finished backlog stays in its panel: long enough to be read after a restart, not so long that
 * it describes a start nobody remembers.
 */
const doneShownMs = 60_000

/** What a module's panel says of its pace: the backlog a start found, or how soon the queue clears. */
export interface Pace {
  text: string
  /** The share of the backlog worked off, 0..1, when there is one to show. */
  done?: number
}

/** `95 s`, `2 min 5 s`, `1 h 3 min`: rounded to what a person waiting wants to know. */
export function duration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000))
  if (seconds < 90) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

const count = (n: number) => n.toLocaleString('en-US')
const rate = (perSecond: number) => `${perSecond >= 10 ? Math.round(perSecond) : perSecond.toFixed(1)}/s`

/** The panel's line for `status` at `now`, or undefined when there is nothing waiting to speak of. */
export function describePace(status: ModuleStatus, now: number): Pace | undefined {
  const { backlog, queueLength, perSecond, clearsInMs } = status
  const clears = clearsInMs === undefined ? (status.running ? '' : ' · stopped') : ` · queue clears in about ${duration(clearsInMs)} at ${rate(perSecond)}`
  if (backlog && backlog.remaining > 0) {
    return { text: `Backlog since start: ${count(backlog.remaining)} of ${count(backlog.total)} left${clears}`, done: (backlog.total - backlog.remaining) / backlog.total }
  }
  if (backlog?.doneAt !== undefined && now - backlog.doneAt < doneShownMs) {
    const tail = queueLength > 0 ? clears : ''
    return { text: `Backlog since start: ${count(backlog.total)} worked off in ${duration(backlog.doneAt - backlog.startedAt)}${tail}`, done: 1 }
  }
  if (queueLength > 0 && clearsInMs !== undefined) return { text: `${count(queueLength)} waiting${clears}` }
  return undefined
}
