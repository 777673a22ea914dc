import { appendFileSync, constants, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { createBus, createNodeFileSystem, DataDirLockedError, JournalCorruptError } from '../../../src/bus/index.js'
import { createJournal } from '../../../src/bus/outbox/journal.js'
import { createMemoryFileSystem } from '../../../src/bus/files/memory-file-system.js'
import { createFixtureModules, TakeOrder } from '../support/shop-fixture.js'
import { useTempDirs } from '../support/temp-dir.js'

const tempDir = useTempDirs()

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

  it.runIf(process.platform === 'linux')('writes appends with O_DSYNC, and syncs a truncation with an fdatasync of its own (node file system)', async () => {
    const path = join(tempDir(), 'segment')
    const handle = await createNodeFileSystem().openAppend(path)
    // The open file as the kernel sees it: its flags (octal) in /proc/self/fdinfo.
    const fd = readdirSync('/proc/self/fd').find((entry) => {
      try {
        return readlinkSync(`/proc/self/fd/${entry}`) === path
      } catch {
        return false
      }
    })
    const flags = Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8)
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC)
    const probe = await open(path)
    const datasync = vi.spyOn(Object.getPrototypeOf(probe) as { datasync(): Promise<void> }, 'datasync')
    await probe.close()
    try {
      await handle.append(Buffer.from('one\n'))
      await handle.sync()
      expect(datasync).not.toHaveBeenCalled()
      await handle.truncate(2)
      await handle.sync()
      expect(datasync).toHaveBeenCalledTimes(1)
      await handle.sync()
      expect(datasync).toHaveBeenCalledTimes(1)
    } finally {
      datasync.mockRestore()
      await handle.close()
    }
    expect(readFileSync(path, 'utf8')).toBe('on')
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
