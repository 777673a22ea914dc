import { connect } from 'node:net'

/**
 * Whether a server the tests need answers at `url`. Without it those tests are skipped, except under
 * MAILROOM_REQUIRE_ALL=1 (as .ci/run sets), where a missing server fails the run with how to start it.
 */
export async function serviceAvailable(name: string, url: string, defaultPort: number, howToStart: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || defaultPort) })
    socket.setTimeout(2_000)
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('timeout', () => (socket.destroy(), resolve(false)))
    socket.once('error', () => resolve(false))
  })
  if (!reachable && process.env.MAILROOM_REQUIRE_ALL === '1') throw new Error(`${name} does not answer at ${url}: ${howToStart}`)
  return reachable
}
