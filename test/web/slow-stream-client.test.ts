import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startConsole, type ConsoleUnderTest } from './support/console-app.js'

let running: ConsoleUnderTest | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await running?.close()
  running = undefined
})

/** Opens /api/stream over a raw socket; `stall()` stops reading, so the kernel's buffers and then Node's fill up. */
function streamClient(path: string) {
  const socket = connect({ path })
  sockets.push(socket)
  let received = 0
  let ended = false
  socket.on('data', (chunk: Buffer) => (received += chunk.length))
  socket.on('end', () => (ended = true))
  socket.on('close', () => (ended = true))
  socket.on('error', () => (ended = true))
  socket.write('GET /api/stream HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n')
  return {
    get received() {
      return received
    },
    get ended() {
      return ended
    },
    stall: () => socket.pause(),
    resume: () => socket.resume(),
  }
}

async function metric(app: ConsoleUnderTest['app'], name: string): Promise<number> {
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${name} `))
  if (!line) throw new Error(`no metric ${name}`)
  return Number(line.split(' ')[1])
}

const waitFor = (condition: () => boolean | Promise<boolean>, timeoutMs: number) => vi.waitFor(async () => expect(await condition()).toBe(true), { timeout: timeoutMs, interval: 50 })

describe('a live-stream client that stops reading', () => {
  it('is dropped once its backlog passes the limit, while a client that reads keeps its stream', async () => {
    // A small limit, so the test does not wait a minute for 1 MiB of snapshots to pile up.
    running = await startConsole({ streamMaxBufferedBytes: 128 * 1024 })
    const { app } = running
    // Served on a Unix socket, whose kernel buffers hold about 200 KiB; loopback TCP grows its buffers
    // to about 4 MiB, a minute of snapshots to fill. The server's guard is the same code either way.
    const path = join(tmpdir(), `mailroom-stream-${process.pid}-${Date.now()}.sock`)
    await app.listen({ path })
    const reading = streamClient(path)
    const stalled = streamClient(path)
    await waitFor(() => reading.received > 0 && stalled.received > 0, 5_000)
    stalled.stall()
    expect(await metric(app, 'mailroom_console_stream_clients')).toBe(2)

    // Orders keep every module logging, so each snapshot carries a hundred log lines.
    const traffic = setInterval(() => void app.inject({ method: 'POST', url: '/api/orders/batch', headers: { 'content-type': 'application/json' }, payload: '{"count":20}' }), 100)
    try {
      await waitFor(async () => (await metric(app, 'mailroom_console_stream_dropped_total')) > 0, 60_000)
    } finally {
      clearInterval(traffic)
    }
    expect(await metric(app, 'mailroom_console_stream_dropped_total')).toBe(1)
    expect(await metric(app, 'mailroom_console_stream_clients')).toBe(1)

    // The server hung up on the stalled client: once it reads again it gets what was sent, then the end.
    stalled.resume()
    await waitFor(() => stalled.ended, 10_000)
    const before = reading.received
    await app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/json' }, payload: '{}' })
    await waitFor(() => reading.received > before, 5_000)
    expect(reading.ended).toBe(false)
  }, 90_000)
})
