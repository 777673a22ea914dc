import type { Bus } from '../bus/index.js'
import type { ConversationLog } from './observers/conversation-log.js'
import type { MetricsSampler } from './observers/metrics-sampler.js'
import type { ConsoleOperations } from './operations.js'

/** A page of the host's, in the console's menu. */
export interface ConsoleLink {
  href: string
  label: string
  /** The `page` name a page of the host's renders with, so the menu marks it. */
  page: string
}

/** What every route of the console may use: attached to the console plugin's own scope as `app.console`. */
export interface ConsoleContext {
  bus: Bus
  /** What a person can do, each in one place: the forms and the JSON API both call these. */
  operations: ConsoleOperations
  conversations: ConversationLog
  metrics: MetricsSampler
  /** The live stream (/api/stream): its limit per client, and its clients now and dropped so far. */
  stream: { readonly maxBufferedBytes: number; readonly maxClients: number; clients: number; dropped: number; refused: number }
  /** Where the console is mounted: `''` at the root, or a prefix like `/mailroom`. */
  base: string
  /** Show, never change: controls hidden, every state-changing request refused with 403. */
  readOnly: boolean
  /** Whether the console serves its own page of module panels at `${base}/` (the shop serves its own). */
  home: boolean
  /** The host's own pages, first in the console's menu. */
  links: readonly ConsoleLink[]
  /** Fields the host adds to every live snapshot (the shop: its newest orders and the gateway's counts). */
  snapshotExtras: () => Promise<Record<string, unknown>>
  /** A trace viewer's address with `{traceId}`: log lines link to their traces. */
  traceUrl?: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The console's context, in the console plugin's own scope. */
    console: ConsoleContext
  }
}
