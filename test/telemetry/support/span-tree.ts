import type { ReadableSpan } from '@opentelemetry/sdk-trace'

/** A trace's spans by id, with what a test asks of them: a span by name, its parent, its path to the root. */
export class SpanTree {
  readonly byId = new Map<string, ReadableSpan>()

  constructor(readonly spans: readonly ReadableSpan[]) {
    for (const span of spans) this.byId.set(span.spanContext().spanId, span)
  }

  /** Every span named `name`. */
  named(name: string): ReadableSpan[] {
    return this.spans.filter((span) => span.name === name)
  }

  /** The one span named `name` (fails when there are none or several). */
  one(name: string): ReadableSpan {
    const found = this.named(name)
    if (found.length !== 1) throw new Error(`expected one span named "${name}", found ${found.length}:\n${this.render()}`)
    return found[0]!
  }

  parentOf(span: ReadableSpan): ReadableSpan | undefined {
    const parentId = span.parentSpanContext?.spanId
    return parentId === undefined ? undefined : this.byId.get(parentId)
  }

  /** The names from `span` up to its root, nearest first. */
  ancestry(span: ReadableSpan): string[] {
    const names: string[] = []
    for (let at = this.parentOf(span); at; at = this.parentOf(at)) names.push(at.name)
    return names
  }

  /** The tree as indented lines (for a failing test's message). */
  render(): string {
    const children = new Map<string | undefined, ReadableSpan[]>()
    for (const span of this.spans) {
      const parentId = span.parentSpanContext?.spanId
      const key = parentId !== undefined && this.byId.has(parentId) ? parentId : undefined
      children.set(key, [...(children.get(key) ?? []), span])
    }
    const lines: string[] = []
    const walk = (parent: string | undefined, depth: number) => {
      for (const span of children.get(parent) ?? []) {
        lines.push(`${'  '.repeat(depth)}${span.name} [${span.spanContext().traceId.slice(0, 8)}]${span.links.length ? ` (links ${span.links.length})` : ''}`)
        walk(span.spanContext().spanId, depth + 1)
      }
    }
    walk(undefined, 0)
    return lines.join('\n')
  }
}
