import type { Transport, TransportHost } from './transport.js'

/** The default: every module runs in this process, and a due delivery goes straight to its module's queue. */
export function createEmbeddedTransport(): Transport {
  let host: TransportHost | undefined
  return {
    kind: 'embedded',
    reachesOtherProcesses: false,
    pending: 0,
    holdsDeferred: false,
    async start(given) {
      host = given
    },
    deliver(states) {
      for (const state of states) host!.enqueueLocal(state)
    },
    status: () => ({ kind: 'embedded', state: 'connected', address: 'in process', unconfirmed: 0, lastError: undefined }),
    queueLengths: async () => undefined,
    async stop() {},
  }
}
