import { spawn } from 'node:child_process'
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createBus, createNodeFileSystem, DataDirLockedError, JournalCorruptError } from '../../../src/bus/index.js'
import { processIsRunning } from '../../../src/bus/outbox/lock-file.js'
import { createJournal } from '../../../src/bus/outbox/journal.js'
import { createMemoryFileSystem } from '../../../src/bus/outbox/memory-file-system.js'
import { createFaultyFileSystem } from '../support/faulty-file-system.js'
import { createFixtureModules, TakeOrder } from '../support/shop-fixture.js'
import { useTempDirs } from '../support/temp-dir.js'

const tempDir = useTempDirs()

/** A memory file system whose syncs of `/j` wait, each on its own, until the test settles them. */
function createGatedFileSystem() {
  const faulty = createFaultyFileSystem()
  return { fs: faulty.fs, syncs: faulty.holdEach('j') }
}

/** The first batch of a segment is written and synced alone (it opens the file); gets it out of the way. */
async function openSegment(journal: ReturnType<typeof createJournal>, syncs: { settle: (error?: Error) => void }[]) {
  const first = journal.append({ k: 'archived', t: 0, id: 'first' }).committed
  await until(() => syncs.length === 1)
  syncs.shift()!.settle()
  await first
}

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await turns(1)
  expect(condition()).toBe(true)
}

/** A stopped data directory whose `_outside` journal holds two accepted orders. */
async function journalWithTwoOrders() {
  const dataDir = tempDir()
  const { modules, routes } = createFixtureModules()
  const bus = createBus({ modules, routes, dataDir })
  await bus.start()
  bus.admin.stopModule('orders')
  await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
  await bus.send(TakeOrder, { orderId: 'o-2', amount: 1 })
  await bus.stop()
  return { dataDir, file: join(dataDir, '_outside', '00000001.journal'), modules, routes }
}

describe('the journal', () => {
  it('shares one write and one fsync among appends made in the same turn (group commit)', async () => {
    const fs = createMemoryFileSystem()
    const journal = createJournal({ fs, dir: '/j', maxSegmentBytes: 1 << 20 })
    await journal.open()
    const before = fs.stats.syncs
    const appends = Array.from({ length: 100 }, (_, i) => journal.append({ k: 'archived', t: i, id: `m-${i}` }).committed)
    await Promise.all(appends)
    // One data sync, plus one directory sync for the new segment file.
    expect(fs.stats.syncs - before).toBeLessThanOrEqual(2)
    expect(fs.stats.appends).toBe(1)
  })

  it('costs far fewer fsyncs than sends when 500 senders send at once to a real disk', async () => {
    const fileSystem = createNodeFileSystem()
    const { modules, routes } = createFixtureModules()
    const bus = createBus({ modules, routes, dataDir: tempDir(), fileSystem })
    await bus.start()
    bus.admin.stopModule('orders')
    const before = fileSystem.stats.syncs
    await Promise.all(Array.from({ length: 500 }, (_, i) => bus.send(TakeOrder, { orderId: `o-${i}`, amount: 1 })))
    const syncs = fileSystem.stats.syncs - before
    expect(syncs).toBeGreaterThan(0)
    expect(syncs).toBeLessThan(10)
    expect(bus.admin.module('orders').queueLength).toBe(500)
    await bus.stop()
  })

  it('writes the next batch while the previous one syncs, two fsyncs at most, and resolves them in order', async () => {
    const { fs, syncs } = createGatedFileSystem()
    const journal = createJournal({ fs, dir: '/j', maxSegmentBytes: 1 << 20 })
    await journal.open()
    await openSegment(journal, syncs)
    const resolved: string[] = []
    const append = (id: string) => journal.append({ k: 'archived', t: 1, id }).committed.then(() => void resolved.push(id))
    const first = append('a')
    await until(() => syncs.length === 1)
    const second = append('b')
    await until(() => syncs.length === 2)
    const third = append('c')
    await turns(5)
    expect(syncs).toHaveLength(2)
    syncs[1]!.settle()
    await turns(5)
    expect(resolved).toEqual([])
    syncs[0]!.settle()
    await Promise.all([first, second])
    expect(resolved).toEqual(['a', 'b'])
    await until(() => syncs.length === 3)
    syncs[2]!.settle()
    await third
    expect(resolved).toEqual(['a', 'b', 'c'])
  })

  it('rejects a batch whose fsync failed and every batch written after it, and cuts them off the file', async () => {
    const { fs, syncs } = createGatedFileSystem()
    const journal = createJournal({ fs, dir: '/j', maxSegmentBytes: 1 << 20 })
    await journal.open()
    await openSegment(journal, syncs)
    const outcome = (id: string) => journal.append({ k: 'archived', t: 1, id }).committed.then(() => 'synced', (error: unknown) => (error as { code?: string }).code)
    const a = outcome('a')
    await until(() => syncs.length === 1)
    const b = outcome('b')
    await until(() => syncs.length === 2)
    const c = outcome('c')
    syncs[1]!.settle()
    syncs[0]!.settle(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
    expect(await a).toBe('MAILROOM_ERR_JOURNAL_WRITE_FAILED')
    expect(await b).toBe('MAILROOM_ERR_JOURNAL_WRITE_FAILED')
    await until(() => syncs.length === 3)
    syncs[2]!.settle()
    expect(await c).toBe('synced')
    await journal.close()

    const ids: string[] = []
    await createJournal({ fs, dir: '/j', maxSegmentBytes: 1 << 20 }).open((_, record) => void (record.k === 'archived' && ids.push(record.id)))
    expect(ids).toEqual(['first', 'c'])
  })

  it('resolves send only after the record is synced', async () => {
    const fs = createMemoryFileSystem()
    const { modules, routes } = createFixtureModules()
    const bus = createBus({ modules, routes, fileSystem: fs, storage: 'memory' })
    await bus.start()
    bus.admin.stopModule('orders')
    const synced = fs.stats.syncs
    const sending = bus.send(TakeOrder, { orderId: 'o-1', amount: 1 }).then(() => fs.stats.syncs > synced)
    expect(await sending).toBe(true)
    await bus.stop()
  })

  it('drops a torn last record, reports it, and keeps every record before it', async () => {
    const { dataDir, file, modules, routes } = await journalWithTwoOrders()
    const intact = readFileSync(file).length
    appendFileSync(file, '187 0badf00d {"k":"out","t":1,"msgs":[{"to":["ord')

    const torn: unknown[] = []
    const second = createBus({ modules, routes, dataDir })
    second.signals.on('journal:torn-tail', (event) => torn.push(event))
    second.admin.stopModule('orders')
    const report = await second.start()
    expect(report.tornTails).toEqual([expect.objectContaining({ file, offset: intact, reason: expect.stringContaining('file ends') })])
    expect(torn).toHaveLength(1)
    expect(readFileSync(file).length).toBe(intact)
    expect(second.admin.module('orders').queueLength).toBe(2)
    await second.stop()
  })

  it('refuses to start on a bad record before the tail, naming file and offset', async () => {
    const { dataDir, file, modules, routes } = await journalWithTwoOrders()
    const data = readFileSync(file)
    const at = data.indexOf('o-1')
    data[at] = 'X'.charCodeAt(0)
    writeFileSync(file, data)

    const second = createBus({ modules, routes, dataDir })
    const failure = await second.start().catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(JournalCorruptError)
    expect(failure).toMatchObject({ code: 'MAILROOM_ERR_JOURNAL_CORRUPT', file, offset: 0 })
    expect((failure as Error).message).toContain(`${file}' is corrupt at byte offset 0`)
    // Nothing was dropped: the file is as it was, and the lock was released for the next try.
    expect(readFileSync(file)).toEqual(data)
    expect(readdirSync(dataDir)).not.toContain('mailroom.lock')
  })

  it('lets one process, one bus, hold a data directory', async () => {
    const dataDir = tempDir()
    const { modules, routes } = createFixtureModules()
    const first = createBus({ modules, routes, dataDir })
    await first.start()
    const second = createBus({ modules, routes, dataDir })
    const failure = await second.start().catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(DataDirLockedError)
    expect(failure).toMatchObject({ code: 'MAILROOM_ERR_JOURNAL_LOCKED', ownerPid: process.pid })
    await first.stop()
    const third = createBus({ modules, routes, dataDir })
    await third.start()
    await third.stop()
  })

  it.runIf(process.platform === 'linux')('counts a killed process that is not yet reaped (a zombie) as gone', () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    const pid = child.pid!
    expect(processIsRunning(pid)).toBe(true)
    // Node reaps its children on the event loop; while this loop is busy, the exited child stays a zombie.
    const until = Date.now() + 2_000
    let zombie = false
    while (Date.now() < until && !zombie) {
      try {
        process.kill(pid, 0)
        zombie = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.startsWith('Z') ?? false
      } catch {
        break
      }
    }
    expect(zombie).toBe(true)
    expect(processIsRunning(pid)).toBe(false)
  })

  it('takes over a lock left by a process that is gone', async () => {
    const dataDir = tempDir()
    writeFileSync(join(dataDir, 'mailroom.lock'), '2147483646\n')
    const { modules, routes } = createFixtureModules()
    const bus = createBus({ modules, routes, dataDir })
    await bus.start()
    expect(readFileSync(join(dataDir, 'mailroom.lock'), 'utf8')).toBe(`${process.pid}\n`)
    await bus.stop()
  })
})
