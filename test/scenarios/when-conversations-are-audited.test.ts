import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, handle, type FileSystem } from '../../src/bus/index.js'
import { createMemoryFileSystem } from '../../src/bus/files/memory-file-system.js'
import { createVirtualClock, type VirtualClock } from '../../src/bus/testing/index.js'

const Ping = defineCommand('Ping', Type.Object({ n: Type.Integer() }))
const Pong = defineCommand('Pong', Type.Object({ n: Type.Integer() }))

function build(fileSystem: FileSystem, clock: VirtualClock, audit?: { maxConversations?: number; maxAgeMs?: number }) {
  const pinger = defineModule({ name: 'pinger', handlers: [handle(Ping, async ({ n }, context) => context.send(Pong, { n }))] })
  const ponger = defineModule({ name: 'ponger', handlers: [handle(Pong, async () => {})] })
  return createBus({ modules: [pinger, ponger], routes: { Ping: 'pinger', Pong: 'ponger' }, storage: 'memory', fileSystem, clock, audit: audit ?? true })
}

describe('when conversations are audited', () => {
  it('keeps every step of a conversation, committed with it, across a restart', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    let bus = build(fileSystem, clock)
    await bus.start()
    const { conversationId } = await bus.send(Ping, { n: 1 })
    await bus.idle()
    await bus.stop()
    bus = build(fileSystem, clock)
    await bus.start()
    const steps = await bus.admin.conversation(conversationId)
    expect(steps.map((step) => `${step.type} ${step.from}->${step.to} ${step.outcome}`)).toEqual(['Ping outside->pinger handled', 'Pong pinger->ponger handled'])
    await bus.stop()
  })

  it('keeps the failed attempts, the delayed retry and the move to the error queue, read back from disk after a restart', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    const failing = () =>
      createBus({
        modules: [defineModule({ name: 'pinger', recoverability: { immediateRetries: 1, delayedRetries: { count: 1, baseDelayMs: 100 } }, handlers: [handle(Ping, async () => Promise.reject(new Error('always')))] })],
        routes: { Ping: 'pinger' },
        storage: 'memory',
        fileSystem,
        clock,
        audit: true,
      })
    let bus = failing()
    await bus.start()
    const { conversationId } = await bus.send(Ping, { n: 1 })
    await bus.idle()
    clock.advance(100)
    await bus.idle()
    await bus.stop()
    // A new process: nothing of the audit in memory, every document read back from its record.
    bus = failing()
    await bus.start()
    const steps = await bus.admin.conversation(conversationId)
    expect(steps.map((step) => step.outcome)).toEqual(['delayed-retry', 'error-queue'])
    expect(steps[1]).toMatchObject({ detail: 'Error: always', failures: [{ detail: 'Error: always' }, { detail: 'Error: always' }, { detail: 'Error: always' }, { detail: 'Error: always' }] })
    await bus.stop()
  })

  it('keeps at most maxConversations per module, the newest', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    const bus = build(fileSystem, clock, { maxConversations: 10 })
    await bus.start()
    const sent = []
    for (let n = 0; n < 30; n++) {
      sent.push(await bus.send(Ping, { n }))
      await bus.idle()
    }
    await bus.compact()
    const kept = []
    for (const { conversationId } of sent) if ((await bus.admin.conversation(conversationId)).length > 0) kept.push(conversationId)
    expect(kept).toEqual(sent.slice(20).map((result) => result.conversationId))
    await bus.stop()
  })

  it('forgets conversations older than maxAgeMs, and they stay forgotten after a restart', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    let bus = build(fileSystem, clock, { maxAgeMs: 60_000 })
    await bus.start()
    const old = await bus.send(Ping, { n: 1 })
    await bus.idle()
    clock.advance(50_000)
    const young = await bus.send(Ping, { n: 2 })
    await bus.idle()
    clock.advance(20_000)
    await bus.compact()
    expect(await bus.admin.conversation(old.conversationId)).toEqual([])
    expect(await bus.admin.conversation(young.conversationId)).toHaveLength(2)
    await bus.stop()
    bus = build(fileSystem, clock, { maxAgeMs: 60_000 })
    await bus.start()
    expect(await bus.admin.conversation(old.conversationId)).toEqual([])
    expect(await bus.admin.conversation(young.conversationId)).toHaveLength(2)
    await bus.stop()
  })

  it('keeps nothing unless asked for', async () => {
    const pinger = defineModule({ name: 'pinger', handlers: [handle(Ping, async () => {})] })
    const bus = createBus({ modules: [pinger], routes: { Ping: 'pinger' }, storage: 'memory' })
    await bus.start()
    const { conversationId } = await bus.send(Ping, { n: 1 })
    await bus.idle()
    expect(await bus.admin.conversation(conversationId)).toEqual([])
    await bus.stop()
  })

  it('refuses a retention that is not a whole number', () => {
    expect(() => build(createMemoryFileSystem(), createVirtualClock(), { maxConversations: 0 })).toThrow(/audit.maxConversations/)
  })
})
