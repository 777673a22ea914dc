import { describe, expect, it } from 'vitest'
import { createMemoryFileSystem } from '../../src/bus/files/memory-file-system.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { CountUp, createNotesBus, DeleteNote, Notes, PutBadNote, PutNote, PutNotes, PutThenFail } from '../bus/support/data-fixture.js'

/** Changes one byte inside the JSON of the notes journal's record that holds `text`: its checksum no longer matches. */
function damageTheRecordOf(fileSystem: ReturnType<typeof createMemoryFileSystem>, text: string) {
  const file = '/mailroom-memory/notes/00000001.journal'
  const intact = Buffer.concat(fileSystem.files.get(file)!)
  const at = intact.indexOf(text)
  const damaged = Buffer.from(intact)
  damaged[at + text.length - 2] = 'X'.charCodeAt(0)
  fileSystem.files.set(file, [damaged])
  return { file, recordStart: intact.lastIndexOf(0x0a, at) + 1, intact }
}

describe('when a module keeps data in its tables', () => {
  it('commits a handler’s document with its message and keeps it across a restart', async () => {
    const fileSystem = createMemoryFileSystem()
    let bus = createNotesBus({ fileSystem })
    await bus.start()
    await bus.send(PutNote, { key: 'a', text: 'first' })
    await bus.send(PutNote, { key: 'b', text: 'second' })
    await bus.idle()
    expect(await bus.table(Notes).get('a')).toEqual({ text: 'first', count: 0 })
    expect(await bus.table(Notes).count()).toBe(2)
    await bus.stop()

    bus = createNotesBus({ fileSystem })
    await bus.start()
    expect(await bus.table(Notes).get('a')).toEqual({ text: 'first', count: 0 })
    expect(await bus.table(Notes).get('b')).toEqual({ text: 'second', count: 0 })
    expect(await bus.table(Notes).get('missing')).toBeUndefined()
    await bus.stop()
  })

  it('writes the documents into the same journal record as the consumed mark and the published event', async () => {
    const fileSystem = createMemoryFileSystem()
    const bus = createNotesBus({ fileSystem })
    await bus.start()
    await bus.send(PutNote, { key: 'a', text: 'one record' })
    await bus.idle()
    await bus.stop()
    const journal = new TextDecoder().decode(await fileSystem.readFile('/mailroom-memory/notes/00000001.journal'))
    const handled = journal
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))))
      .find((record) => record.k === 'handled')
    expect(handled.msgs.map((entry: { env: { type: string } }) => entry.env.type)).toEqual(['NoteWritten'])
    expect(handled.data).toEqual([{ table: 'notes', key: 'a', seq: 1, doc: { text: 'one record', count: 0 } }])
  })

  it('never brings a deleted document back, across restarts and compactions', async () => {
    const fileSystem = createMemoryFileSystem()
    let bus = createNotesBus({ fileSystem, maxSegmentBytes: 1024 })
    await bus.start()
    // One record holds the document deleted below and three that stay: its segment stays (mostly live).
    await bus.send(PutNotes, { keys: ['gone', 'k-0', 'k-1', 'k-2'], text: 'y'.repeat(150) })
    await bus.idle()
    await bus.send(DeleteNote, { key: 'gone' })
    await bus.idle()
    // Later segments hold only changes of one document: they die as it changes, the deletion's with them,
    // while the first segment (the deleted document's record among live ones) stays.
    for (let i = 0; i < 40; i++) {
      await bus.send(CountUp, { key: 'hot' })
      await bus.idle()
    }
    await bus.compact()
    await bus.stop()
    bus = createNotesBus({ fileSystem, maxSegmentBytes: 1024 })
    await bus.start()
    expect(await bus.table(Notes).get('gone')).toBeUndefined()
    expect(await bus.table(Notes).get('hot')).toMatchObject({ count: 40 })
    expect(await bus.table(Notes).count()).toBe(4)
    await bus.compact()
    await bus.stop()
    bus = createNotesBus({ fileSystem, maxSegmentBytes: 1024 })
    await bus.start()
    expect(await bus.table(Notes).get('gone')).toBeUndefined()
    expect(await bus.table(Notes).get('k-0')).toEqual({ text: 'y'.repeat(150), count: 0 })
    await bus.stop()
  })

  it('drops a failed attempt’s writes and its messages: nothing of it commits', async () => {
    const fileSystem = createMemoryFileSystem()
    const bus = createNotesBus({ fileSystem })
    const handled: string[] = []
    bus.signals.on('message:handled', (signal) => handled.push(signal.type))
    await bus.start()
    await bus.send(PutThenFail, { key: 'never' })
    await bus.idle()
    expect(await bus.table(Notes).get('never')).toBeUndefined()
    expect(handled).not.toContain('NoteWritten')
    const [failed] = bus.admin.failedMessages()
    expect(failed?.failures).toHaveLength(3)
    await bus.stop()
  })

  it('sends a document that fails its schema to the error queue at once, naming the field, and commits nothing', async () => {
    const fileSystem = createMemoryFileSystem()
    const bus = createNotesBus({ fileSystem })
    await bus.start()
    await bus.send(PutBadNote, { key: 'bad' })
    await bus.idle()
    const [failed] = bus.admin.failedMessages()
    expect(failed?.failures).toHaveLength(1)
    expect(failed?.failures[0]?.type).toBe('DataInvalidError')
    expect(failed?.failures[0]?.message).toContain("field '/count'")
    expect(await bus.table(Notes).get('bad')).toBeUndefined()
    await bus.stop()
  })

  it('loses no update when two handlers change the same document at once', async () => {
    const fileSystem = createMemoryFileSystem()
    // Every CountUp waits between its read and its write, so all eight read the same version first.
    const bus = createNotesBus({ fileSystem, concurrency: 8, betweenReadAndWrite: () => new Promise((resolve) => setImmediate(resolve)) })
    await bus.start()
    await Promise.all(Array.from({ length: 8 }, () => bus.send(CountUp, { key: 'hits' })))
    await bus.idle()
    expect(await bus.table(Notes).get('hits')).toMatchObject({ count: 8 })
    expect(bus.admin.failedMessages()).toEqual([])
    await bus.stop()
  })

  it('lists documents in a stable order with a cursor, oldest or newest first', async () => {
    const fileSystem = createMemoryFileSystem()
    let bus = createNotesBus({ fileSystem, clock: createVirtualClock() })
    await bus.start()
    for (let i = 0; i < 7; i++) {
      await bus.send(PutNote, { key: `n-${i}`, text: `${i}` })
      await bus.idle()
    }
    // Changing a document keeps its place; deleting takes it out.
    await bus.send(PutNote, { key: 'n-2', text: 'changed' })
    await bus.send(DeleteNote, { key: 'n-4' })
    await bus.idle()
    const keys = async (order: 'oldest' | 'newest') => {
      const seen: string[] = []
      let cursor: string | undefined
      do {
        const page = await bus.table(Notes).list({ limit: 2, order, ...(cursor ? { cursor } : {}) })
        seen.push(...page.items.map((item) => item.key))
        cursor = page.next
      } while (cursor)
      return seen
    }
    expect(await keys('oldest')).toEqual(['n-0', 'n-1', 'n-2', 'n-3', 'n-5', 'n-6'])
    expect(await keys('newest')).toEqual(['n-6', 'n-5', 'n-3', 'n-2', 'n-1', 'n-0'])
    await bus.stop()
    bus = createNotesBus({ fileSystem })
    await bus.start()
    expect(await keys('newest')).toEqual(['n-6', 'n-5', 'n-3', 'n-2', 'n-1', 'n-0'])
    await expect(bus.table(Notes).list({ limit: 0 })).rejects.toThrow(/limit/)
    await bus.stop()
  })

  it('refuses to start on a damaged document record before the tail, naming the file and offset', async () => {
    const fileSystem = createMemoryFileSystem()
    let bus = createNotesBus({ fileSystem })
    await bus.start()
    await bus.send(PutNote, { key: 'a', text: 'kept' })
    await bus.send(PutNote, { key: 'b', text: 'after it' })
    await bus.idle()
    await bus.stop()
    const { file, recordStart } = damageTheRecordOf(fileSystem, '"text":"kept"')
    bus = createNotesBus({ fileSystem })
    await expect(bus.start()).rejects.toMatchObject({ code: 'MAILROOM_ERR_JOURNAL_CORRUPT', file, offset: recordStart })
  })

  it('names the file and offset when a document’s record is damaged after the start, and drops nothing', async () => {
    const fileSystem = createMemoryFileSystem()
    const bus = createNotesBus({ fileSystem })
    await bus.start()
    await bus.send(PutNote, { key: 'a', text: 'kept' })
    // Enough documents after it that it is no longer kept in memory (the last 8,192 written or read are).
    for (let batch = 0; batch < 17; batch++) await bus.send(PutNotes, { keys: Array.from({ length: 500 }, (_, i) => `filler-${batch}-${i}`), text: 'f' })
    await bus.idle()
    const { file, recordStart, intact } = damageTheRecordOf(fileSystem, '"text":"kept"')
    await expect(bus.table(Notes).get('a')).rejects.toMatchObject({ code: 'MAILROOM_ERR_JOURNAL_CORRUPT', file, offset: recordStart })
    fileSystem.files.set(file, [intact])
    expect(await bus.table(Notes).get('a')).toEqual({ text: 'kept', count: 0 })
    await bus.stop()
  })
})
