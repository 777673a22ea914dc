import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Bus } from '../../../src/bus/index.js'
import { createMemoryFileSystem } from '../../../src/bus/files/memory-file-system.js'
import { createNotesBus, DeleteNote, Notes, PutNote, PutNotes } from '../support/data-fixture.js'

const keys = ['a', 'b', 'c', 'd', 'e', 'f']
const key = fc.constantFrom(...keys)

type Step =
  | { kind: 'put'; key: string; text: string }
  | { kind: 'put-many'; keys: string[]; text: string }
  | { kind: 'delete'; key: string }
  | { kind: 'restart' }
  | { kind: 'compact' }

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key, text: fc.string({ maxLength: 120 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('put-many' as const), keys: fc.uniqueArray(key, { minLength: 1, maxLength: 4 }), text: fc.string({ maxLength: 60 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const) }) },
)

/** What the table must hold: a plain Map, in first-put order (a put after a delete goes to the end). */
async function expectSame(bus: Bus, model: Map<string, string>): Promise<void> {
  for (const candidate of keys) {
    const doc = await bus.table(Notes).get(candidate)
    expect(doc?.text, `key ${candidate}`).toBe(model.get(candidate))
  }
  expect(await bus.table(Notes).count()).toBe(model.size)
  const listed = await bus.table(Notes).list({ limit: 100 })
  expect(listed.items.map((item) => item.key)).toEqual([...model.keys()])
}

describe('module data', () => {
  it('leaves the same data as a plain Map after any puts and deletes across restarts and forced compactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const fileSystem = createMemoryFileSystem()
        // Small segments: records roll over and compaction carries and deletes them all the time.
        const build = () => createNotesBus({ fileSystem, maxSegmentBytes: 1024 })
        let bus = build()
        await bus.start()
        const model = new Map<string, string>()
        try {
          for (const next of steps) {
            if (next.kind === 'put') {
              await bus.send(PutNote, { key: next.key, text: next.text })
              if (!model.has(next.key)) model.set(next.key, next.text)
              else model.set(next.key, next.text)
            } else if (next.kind === 'put-many') {
              await bus.send(PutNotes, { keys: next.keys, text: next.text })
              for (const k of next.keys) model.set(k, next.text)
            } else if (next.kind === 'delete') {
              await bus.send(DeleteNote, { key: next.key })
              model.delete(next.key)
            } else if (next.kind === 'restart') {
              await bus.idle()
              await bus.stop()
              bus = build()
              await bus.start()
              await expectSame(bus, model)
            } else {
              await bus.idle()
              await bus.compact()
            }
            // One message at a time: the model's order is the order the bus handles them in.
            await bus.idle()
          }
          await bus.compact()
          await expectSame(bus, model)
          await bus.stop()
          bus = build()
          await bus.start()
          await expectSame(bus, model)
        } finally {
          await bus.stop()
        }
      }),
      { numRuns: 150 },
    )
  })
})
