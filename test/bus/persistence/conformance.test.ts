import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createNodeFileSystem, createMemoryFileSystem, type FileSystem } from '../../../src/bus/index.js'
import { createOutbox } from '../../../src/bus/outbox/outbox.js'
import type { Outcome, PersistenceFactory } from '../../../src/bus/persistence/persistence.js'
import { persistenceChecks } from '../../../src/bus/testing/index.js'

/** The journal files as a persistence factory, as createBus makes them, on `fs` under `dataDir`. */
function journalFiles(fs: FileSystem, dataDir: string): PersistenceFactory {
  return (context) =>
    createOutbox({ fs, dataDir, modules: context.modules, tables: context.tables, audit: context.audit, maxSegmentBytes: 1024 * 1024, compaction: true, clock: context.clock, holdConsumedMs: 0, onError: context.onError })
}

const check = (name: string) => persistenceChecks.find((candidate) => candidate.name.startsWith(name))!

describe('journal files on disk pass the persistence conformance checks', () => {
  const root = mkdtempSync(join(tmpdir(), 'mailroom-persistence-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  it.each(persistenceChecks.map((candidate) => [candidate.name, candidate] as const))('%s', async (_name, candidate) => {
    await candidate.run({ create: (name) => journalFiles(createNodeFileSystem(), join(root, name.replaceAll(/\W+/g, '-'))) })
  })
})

describe('journal files in memory pass the persistence conformance checks', () => {
  const disks = new Map<string, FileSystem>()
  it.each(persistenceChecks.map((candidate) => [candidate.name, candidate] as const))('%s', async (_name, candidate) => {
    await candidate.run({ create: (name) => journalFiles(disks.get(name) ?? disks.set(name, createMemoryFileSystem()).get(name)!, '/data') })
  })
})

/** The journal files with one thing wrong, as a stranger's persistence might have it. */
function broken(change: { outcome?: (outcome: Outcome) => Outcome; forgetOnOpen?: boolean }): (name: string) => PersistenceFactory {
  const disks = new Map<string, FileSystem>()
  return (name) => (context) => {
    const inner = journalFiles(disks.get(name) ?? disks.set(name, createMemoryFileSystem()).get(name)!, '/data')(context)
    return {
      ...inner,
      open: async () => {
        const recovered = await inner.open()
        if (change.forgetOnOpen) recovered.delayed = []
        return recovered
      },
      commit: (module, delivery, outcome) => inner.commit(module, delivery, change.outcome ? change.outcome(outcome) : outcome),
      sagas: inner.sagas,
      maintenance: inner.maintenance,
    }
  }
}

describe('a broken persistence fails them, saying what it got wrong', () => {
  it('one that loses delayed retries in a restart', async () => {
    await expect(check('keeps a delayed retry').run({ create: broken({ forgetOnOpen: true }) })).rejects.toThrow(/delayed retry was lost/)
  })

  it('one that drops what a handled message sent', async () => {
    const dropping = broken({ outcome: (outcome) => (outcome.kind === 'handled' ? { ...outcome, sent: [] } : outcome) })
    await expect(check('recovers a handled delivery never again').run({ create: dropping })).rejects.toThrow(/without the delivery its handler sent/)
  })

  it('one that keeps a failed message without its attempts', async () => {
    const forgetful = broken({ outcome: (outcome) => (outcome.kind === 'failed' ? { ...outcome, failures: [] } : outcome) })
    await expect(check('keeps a failed message').run({ create: forgetful })).rejects.toThrow(/kept 0 attempts/)
  })
})
