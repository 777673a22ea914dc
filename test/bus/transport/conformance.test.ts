import { describe, expect, it } from 'vitest'
import type { Delivery, Transport } from '../../../src/bus/index.js'
import { transportChecks } from '../../../src/bus/testing/index.js'
import { createEmbeddedTransport } from '../../../src/bus/transport/embedded-transport.js'

const check = (name: string) => transportChecks.find((candidate) => candidate.name.startsWith(name))!

describe('the embedded transport passes the transport conformance checks', () => {
  it.each(transportChecks.map((candidate) => [candidate.name, candidate] as const))('%s', async (_name, candidate) => {
    await candidate.run({ create: () => createEmbeddedTransport() })
  })
})

/** The embedded transport with one thing wrong, as a stranger's transport might have it. */
function broken(what: { deliver?: (deliveries: readonly Delivery[], pass: (deliveries: readonly Delivery[]) => void) => void; holdsDeferred?: boolean }): Transport {
  const inner = createEmbeddedTransport()
  return {
    ...inner,
    holdsDeferred: what.holdsDeferred ?? inner.holdsDeferred,
    start: (host) => inner.start(host),
    deliver: (deliveries) => (what.deliver ? what.deliver(deliveries, (passed) => inner.deliver(passed)) : inner.deliver(deliveries)),
    status: () => inner.status(),
  }
}

describe('a broken transport fails them, saying what it got wrong', () => {
  it('one that loses every fifth delivery', async () => {
    let count = 0
    const losing = () => broken({ deliver: (deliveries, pass) => pass(deliveries.filter(() => ++count % 5 !== 0)) })
    await expect(check('delivers each sent command').run({ create: losing, timeoutMs: 1_000 })).rejects.toThrow(/never handled/)
  })

  it('one that hands every delivery over twice', async () => {
    const doubling = () => broken({ deliver: (deliveries, pass) => (pass(deliveries), pass(deliveries)) })
    await expect(check('delivers each sent command').run({ create: doubling, timeoutMs: 1_000 })).rejects.toThrow(/handled more than once/)
  })

  it('one that hands deferred messages over at once', async () => {
    // It claims to hold deferred deliveries until due, as a broker does, and does not.
    const eager = () => broken({ holdsDeferred: true })
    await expect(check('delivers a deferred message').run({ create: eager, timeoutMs: 2_000 })).rejects.toThrow(/arrived before they were due/)
  })

  it('one that hands every delivery over twice, to a module that runs twice', async () => {
    const doubling = () => broken({ deliver: (deliveries, pass) => (pass(deliveries), pass(deliveries)) })
    await expect(check('gives each command and each event to one instance').run({ create: doubling, timeoutMs: 1_000 })).rejects.toThrow(/more than once/)
  })

  it('one that never hands over a deferred message, even one already due', async () => {
    const holding = () => broken({ holdsDeferred: true, deliver: (deliveries, pass) => pass(deliveries.filter((delivery) => delivery.at === undefined)) })
    await expect(check('delivers a deferred message whose time has already come').run({ create: holding, timeoutMs: 1_000 })).rejects.toThrow(/never handled/)
  })
})
