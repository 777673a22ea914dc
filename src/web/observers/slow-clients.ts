/** What the guard needs of a client's response: how much is queued for it, and a way to hang up. */
export interface BufferedResponse {
  readonly writableLength: number
  destroy(): void
}

/**
 * Server-Sent Events go out whether or not a browser reads them. A client that stops reading (a frozen
 * tab, a stalled network) makes Node queue every event for it, without limit. Before each broadcast,
 * clients with more than `maxBufferedBytes` waiting are dropped; a real browser reconnects on its own
 * and gets a fresh snapshot. Returns the clients dropped.
 */
export function dropSlowClients<K>(clients: Map<K, BufferedResponse>, maxBufferedBytes: number, onDrop: (client: K) => void): K[] {
  const dropped: K[] = []
  for (const [client, response] of clients) {
    if (response.writableLength <= maxBufferedBytes) continue
    clients.delete(client)
    onDrop(client)
    response.destroy()
    dropped.push(client)
  }
  return dropped
}
