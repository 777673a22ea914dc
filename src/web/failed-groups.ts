import { createHash } from 'node:crypto'
import type { FailedMessage } from '../bus/index.js'

export interface FailedGroup {
  /** Stable for one exception type + message: safe in URLs and forms. */
  key: string
  exceptionType: string
  message: string
  count: number
  firstAt: number
  lastAt: number
  messages: FailedMessage[]
}

export function groupKey(exceptionType: string, message: string): string {
  return createHash('sha256').update(`${exceptionType}\n${message}`).digest('hex').slice(0, 16)
}

/** Failed messages grouped by their latest exception type and message, largest group first (ServicePulse's view). */
export function groupFailures(messages: readonly FailedMessage[]): FailedGroup[] {
  const groups = new Map<string, FailedGroup>()
  for (const message of messages) {
    const latest = message.failures[0]
    const exceptionType = latest?.type ?? 'Error'
    const text = latest?.message ?? ''
    const key = groupKey(exceptionType, text)
    let group = groups.get(key)
    if (!group) groups.set(key, (group = { key, exceptionType, message: text, count: 0, firstAt: message.failedAt, lastAt: message.failedAt, messages: [] }))
    group.count++
    group.firstAt = Math.min(group.firstAt, message.failedAt)
    group.lastAt = Math.max(group.lastAt, message.failedAt)
    group.messages.push(message)
  }
  for (const group of groups.values()) group.messages.sort((a, b) => b.failedAt - a.failedAt)
  return [...groups.values()].sort((a, b) => b.count - a.count || b.lastAt - a.lastAt)
}

/** Case-insensitive search over id, type, module, every exception text and the body. */
export function searchFailures(messages: readonly FailedMessage[], query: string): FailedMessage[] {
  const needle = query.trim().toLowerCase()
  if (!needle) return [...messages]
  return messages.filter((message) => {
    const haystack = [
      message.id,
      message.type,
      message.module,
      ...message.failures.flatMap((failure) => [failure.type, failure.message]),
      JSON.stringify(message.envelope.body),
    ]
    return haystack.some((text) => text.toLowerCase().includes(needle))
  })
}
