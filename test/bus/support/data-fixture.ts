import { Type } from '@sinclair/typebox'
import { createBus, defineCommand, defineEvent, defineModule, defineTable, handle, type Bus, type FileSystem } from '../../../src/bus/index.js'
import { createVirtualClock, type VirtualClock } from '../../../src/bus/testing/index.js'

/** A module with one table, and commands that put, delete, count up and misbehave: module data under test. */
export const Notes = defineTable('notes', Type.Object({ text: Type.String({ maxLength: 2_000 }), count: Type.Integer({ minimum: 0 }) }))

export const PutNote = defineCommand('PutNote', Type.Object({ key: Type.String(), text: Type.String() }))
/** Puts several notes in one record. */
export const PutNotes = defineCommand('PutNotes', Type.Object({ keys: Type.Array(Type.String()), text: Type.String() }))
export const DeleteNote = defineCommand('DeleteNote', Type.Object({ key: Type.String() }))
export const CountUp = defineCommand('CountUp', Type.Object({ key: Type.String() }))
/** Puts a document that breaks the table's schema (a negative count). */
export const PutBadNote = defineCommand('PutBadNote', Type.Object({ key: Type.String() }))
/** Puts a note, publishes, then throws: nothing may commit. */
export const PutThenFail = defineCommand('PutThenFail', Type.Object({ key: Type.String() }))
export const NoteWritten = defineEvent('NoteWritten', Type.Object({ key: Type.String() }))

export interface DataFixtureOptions {
  fileSystem: FileSystem
  clock?: VirtualClock
  concurrency?: number
  maxSegmentBytes?: number
  /** Called inside CountUp between its read and its write: lets a test line two handlers up. */
  betweenReadAndWrite?: () => Promise<void>
}

export function createNotesModule(options: Pick<DataFixtureOptions, 'concurrency' | 'betweenReadAndWrite'> = {}) {
  return defineModule({
    name: 'notes',
    concurrency: options.concurrency ?? 4,
    tables: [Notes],
    recoverability: { immediateRetries: 2, delayedRetries: { count: 0 } },
    handlers: [
      handle(PutNote, async ({ key, text }, context) => {
        const notes = context.table(Notes)
        const before = await notes.get(key)
        notes.put(key, { text, count: before?.count ?? 0 })
        await context.publish(NoteWritten, { key })
      }),
      handle(PutNotes, async ({ keys, text }, context) => {
        for (const key of keys) context.table(Notes).put(key, { text, count: 0 })
      }),
      handle(DeleteNote, async ({ key }, context) => {
        context.table(Notes).delete(key)
      }),
      handle(CountUp, async ({ key }, context) => {
        const notes = context.table(Notes)
        const before = await notes.get(key)
        await options.betweenReadAndWrite?.()
        notes.put(key, { text: before?.text ?? '', count: (before?.count ?? 0) + 1 })
      }),
      handle(PutBadNote, async ({ key }, context) => {
        context.table(Notes).put(key, { text: 'bad', count: -1 })
      }),
      handle(PutThenFail, async ({ key }, context) => {
        context.table(Notes).put(key, { text: 'should not exist', count: 0 })
        await context.publish(NoteWritten, { key })
        throw new Error('boom after put')
      }),
    ],
  })
}

/** Listens to NoteWritten, so publishing it has a subscriber. */
const audit = defineModule({ name: 'audit', handlers: [handle(NoteWritten, async () => {})] })

export function createNotesBus(options: DataFixtureOptions): Bus {
  return createBus({
    modules: [createNotesModule(options), audit],
    routes: { PutNote: 'notes', PutNotes: 'notes', DeleteNote: 'notes', CountUp: 'notes', PutBadNote: 'notes', PutThenFail: 'notes' },
    storage: 'memory',
    fileSystem: options.fileSystem,
    clock: options.clock ?? createVirtualClock(),
    journal: { maxSegmentBytes: options.maxSegmentBytes ?? 8 * 1024 * 1024 },
  })
}
