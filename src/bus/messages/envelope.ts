/** What travels and what is stored: a message's identity and metadata in headers, its body as JSON. */
export interface Envelope {
  readonly id: string
  readonly type: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

export type MessageKind = 'command' | 'event'
