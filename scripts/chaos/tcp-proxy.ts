import { connect, createServer, type Socket } from 'node:net'

/**
 * A loopback TCP proxy in front of PostgreSQL, so a test can take "the server" away and bring it back
 * without touching the real one (other test files use it at the same time): `down()` drops every
 * connection (the server sees its clients vanish and rolls their open transactions back) and refuses
 * new ones, as a restarting server does; `up()` accepts and forwards again. `lose('answers')` keeps
 * forwarding what clients send but drops what the server answers (a statement runs, its answer never
 * arrives), `lose('requests')` the other way round, until `down()`: what a connection dying at that moment
 * looks like.
 */
export interface TcpProxy {
  readonly port: number
  up(): Promise<void>
  down(): Promise<void>
  lose(direction: 'answers' | 'requests'): void
  close(): Promise<void>
}

export async function createTcpProxy(port: number, target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let losing: 'answers' | 'requests' | undefined
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk) => losing !== 'requests' && upstream.write(chunk))
    upstream.on('data', (chunk) => losing !== 'answers' && client.write(chunk))
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
  })
  let listening = false
  const proxy: TcpProxy = {
    port,
    async up() {
      if (listening) return
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()))
      listening = true
    },
    async down() {
      // close() calls back once every connection has ended: stop listening, drop them, then wait.
      const closed = listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()
      listening = false
      losing = undefined
      for (const socket of sockets) socket.destroy()
      await closed
    },
    lose(direction) {
      losing = direction
    },
    close: () => proxy.down(),
  }
  return proxy
}
