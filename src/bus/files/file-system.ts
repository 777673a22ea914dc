import { createReadHandles } from './read-handles.js'
import { constants } from 'node:fs'
import * as fsp from 'node:fs/promises'

/** An open journal segment: appends go to its end, `sync` makes them durable. */
export interface AppendHandle {
  /** The data may be a view into a buffer the caller reuses: keep a copy, not the view. */
  append(data: Uint8Array): Promise<void>
  sync(): Promise<void>
  truncate(length: number): Promise<void>
  close(): Promise<void>
}

/**
 * The journal's only door to storage. Injected so tests can count fsyncs, simulate disk errors,
 * and so the in-memory mode runs the very same journal code without touching disk.
 */
export interface FileSystem {
  mkdir(path: string): Promise<void>
  /** File names in `path`, or [] when it does not exist. */
  readdir(path: string): Promise<string[]>
  readFile(path: string): Promise<Uint8Array>
  /** `length` bytes from `position`, fewer only where the file ends first. */
  readRange(path: string, position: number, length: number): Promise<Uint8Array>
  /**
   * Opens for appending, creating the file when missing. `synced: false` leaves each write to the
   * operating system (it survives the process's crash, not a power cut) until `sync()`.
   */
  openAppend(path: string, options?: { synced?: boolean }): Promise<AppendHandle>
  /** Creates a file that must not exist yet; rejects with code EEXIST otherwise. */
  createExclusive(path: string, content: string): Promise<void>
  truncate(path: string, length: number): Promise<void>
  unlink(path: string): Promise<void>
  /** Makes a directory's entries (created or removed files) durable. */
  syncDir(path: string): Promise<void>
  /** Counters for tests: group commit is proved by counting syncs, never by timing. */
  readonly stats: { syncs: number; appends: number }
  /** Closes the read handles kept open for readRange (the outbox calls it when it closes). */
  closeReads?(): void
}

/** O_DSYNC where the platform has it (not on Windows): 0 means appends need an fdatasync of their own. */
const syncedWrites = constants.O_DSYNC ?? 0

export function createNodeFileSystem(): FileSystem {
  const stats = { syncs: 0, appends: 0 }
  const readers = createReadHandles()
  return {
    stats,
    async mkdir(path) {
      await fsp.mkdir(path, { recursive: true })
    },
    async readdir(path) {
      try {
        return await fsp.readdir(path)
      } catch (error) {
        if (isCode(error, 'ENOENT')) return []
        throw error
      }
    },
    async readFile(path) {
      // One read of the whole file, not fs.readFile's 512 KiB steps: each step needs the event loop to ask
      // for the next, so a segment read ahead during replay's decoding (which holds the loop) stalled.
      const handle = await fsp.open(path, constants.O_RDONLY)
      try {
        const { size } = await handle.stat()
        return await readFully(handle, 0, size)
      } finally {
        await handle.close()
      }
    },
    readRange(path, position, length) {
      return readers.use(path, (handle) => readFully(handle, position, length))
    },
    async openAppend(path, options) {
      // O_DSYNC: a write returns once its bytes and the file's new size are on disk, one trip to libuv's
      // threads where write + fdatasync took two (10-20% more synced appends a second here). Where the
      // platform lacks it, sync() does the fdatasync.
      const synced = options?.synced === false ? 0 : syncedWrites
      const handle = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | synced, 0o644)
      // A truncation is not a write: the next sync() makes it durable.
      let truncated = false
      return {
        async append(data) {
          stats.appends++
          let offset = 0
          while (offset < data.length) {
            const { bytesWritten } = await handle.write(data, offset, data.length - offset)
            offset += bytesWritten
          }
        },
        async sync() {
          stats.syncs++
          if (synced !== 0 && !truncated) return
          truncated = false
          // fdatasync flushes the file's size too, which is all an append changes.
          await handle.datasync()
        },
        async truncate(length) {
          truncated = true
          await handle.truncate(length)
        },
        async close() {
          await handle.close()
        },
      }
    },
    async createExclusive(path, content) {
      await fsp.writeFile(path, content, { flag: 'wx' })
    },
    async truncate(path, length) {
      await fsp.truncate(path, length)
    },
    closeReads() {
      readers.closeAll()
    },
    async unlink(path) {
      readers.forget(path)
      await fsp.unlink(path)
    },
    async syncDir(path) {
      stats.syncs++
      const handle = await fsp.open(path, constants.O_RDONLY)
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    },
  }
}

/** Up to `length` bytes from `position`, fewer where the file ends first. */
async function readFully(handle: fsp.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    // At most 1 GiB per call: a single read is limited to 2 GiB.
    const { bytesRead } = await handle.read(buffer, filled, Math.min(length - filled, 1 << 30), position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return buffer.subarray(0, filled)
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code
}
