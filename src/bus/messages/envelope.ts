/** What travels and what is stored: a message's identity and metadata in headers, its body as JSON. */
export interface Envelope {
  readonly id: string
  readonly type: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

export type MessageKind = 'command' | 'event'

/** The value as a Mailroom envelope (id, type, string headers, body), or undefined if it is not one (read from a broker or a table). */
export function asEnvelope(body: unknown): Envelope | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { id, type, headers } = body as Record<string, unknown>
  if (typeof id !== 'string' || typeof type !== 'string' || typeof headers !== 'object' || headers === null) return undefined
  if (!Object.values(headers).every((value) => typeof value === 'string')) return undefined
  if (!('body' in body)) return undefined
  return body as Envelope
}
