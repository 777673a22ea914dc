import { constants, promises as fsp } from 'node:fs'

type FileHandle = fsp.FileHandle

interface Entry {
  opened: Promise<FileHandle>
  users: number
  retired: boolean
}

/**
 * Read handles kept open for the files read most recently: reading a queued message or a document back is
 * one positional read, where opening and closing the file around it took two more trips to libuv's
 * threads (measured: open, read and close were 20% of the shop's profile with 20,000 orders in flight).
 * Positional reads share a handle safely; a handle is closed once it is neither among the `limit` newest
 * nor in use, and at once when its file is deleted.
 */
export function createReadHandles(limit = 32) {
  const entries = new Map<string, Entry>()

  function retire(path: string, entry: Entry): void {
    if (entries.get(path) === entry) entries.delete(path)
    entry.retired = true
    if (entry.users === 0) void entry.opened.then((handle) => handle.close()).catch(() => {})
  }

  return {
    /** Runs `read` with an open handle of `path` (rejects with ENOENT, as open would, for a missing file). */
    async use<T>(path: string, read: (handle: FileHandle) => Promise<T>): Promise<T> {
      let entry = entries.get(path)
      if (entry) {
        // Used again: to the back of the line.
        entries.delete(path)
        entries.set(path, entry)
      } else {
        entry = { opened: fsp.open(path, constants.O_RDONLY), users: 0, retired: false }
        entries.set(path, entry)
        const opening = entry
        opening.opened.catch(() => {
          if (entries.get(path) === opening) entries.delete(path)
        })
        if (entries.size > limit) {
          const [oldest, old] = entries.entries().next().value!
          retire(oldest, old)
        }
      }
      entry.users++
      try {
        return await read(await entry.opened)
      } finally {
        entry.users--
        if (entry.retired && entry.users === 0) void entry.opened.then((handle) => handle.close()).catch(() => {})
      }
    },
    /** The file is being deleted: its handle goes (once no read uses it). */
    forget(path: string): void {
      const entry = entries.get(path)
      if (entry) retire(path, entry)
    },
    closeAll(): void {
      for (const [path, entry] of [...entries]) retire(path, entry)
    },
  }
}
