/** How messages travel, as the console shows it (its own file: the admin API and the transport both speak of it). */
/** A name for people: `embedded`, `amqp`, or a transport's own. */
export type TransportKind = 'embedded' | 'amqp' | (string & {})

export interface TransportStatus {
  kind: TransportKind
  /** `embedded` is always connected; a broker connection may be lost and re-established. */
  state: 'connected' | 'connecting' | 'reconnecting' | 'closed'
  /** Where the broker is, without credentials. */
  address: string
  /** Deliveries handed over and not yet confirmed by the broker (they stay in the journal until then). */
  unconfirmed: number
  lastError: string | undefined
}
