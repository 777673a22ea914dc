import type { AppendHandle, FileSystem } from './file-system.js'

/**
 * Where each chunk of a file starts, kept per chunk list and extended as chunks are appended (a
 * truncation replaces the list, so a stale entry is never used).
 */
const startsByChunks = new WeakMap<Uint8Array[], number[]>()

function chunkStarts(chunks: Uint8Array[]): number[] {
  let starts = startsByChunks.get(chunks)
  if (!starts) startsByChunks.set(chunks, (starts = []))
  for (let i = starts.length; i < chunks.length; i++) starts.push(i === 0 ? 0 : starts[i - 1]! + chunks[i - 1]!.length)
  return starts
}

/**
 * The in-memory mode's storage: the same journal code runs against it, nothing touches disk and a
 * "sync" costs nothing. Keep one instance to simulate a restart (create a second bus on it).
 */
export function createMemoryFileSystem(): FileSystem & { files: Map<string, Uint8Array[]> } {
  const files = new Map<string, Uint8Array[]>()
  const stats = { syncs: 0, appends: 0 }
  const enoent = (path: string) => Object.assign(new Error(`ENOENT: no such file '${path}'`), { code: 'ENOENT' })
  const concat = (chunks: Uint8Array[]) => Buffer.concat(chunks)
  return {
    files,
    stats,
    async mkdir() {},
    async readdir(path) {
      const prefix = path.endsWith('/') ? path : `${path}/`
      const names = new Set<string>()
      for (const file of files.keys()) {
        if (file.startsWith(prefix)) names.add(file.slice(prefix.length).split('/')[0]!)
      }
      return [...names]
    },
    async readFile(path) {
      const chunks = files.get(path)
      if (!chunks) throw enoent(path)
      return concat(chunks)
    },
    async readRange(path, position, length) {
      const chunks = files.get(path)
      if (!chunks) throw enoent(path)
      // A segment is thousands of appended batches: find the first one the range touches by its start
      // offset, and copy only the ones it touches.
      const starts = chunkStarts(chunks)
      let low = 0
      let high = chunks.length - 1
      while (low < high) {
        const middle = (low + high + 1) >>> 1
        if (starts[middle]! <= position) low = middle
        else high = middle - 1
      }
      const parts: Uint8Array[] = []
      const end = position + length
      for (let i = low; i < chunks.length && starts[i]! < end; i++) {
        const chunk = chunks[i]!
        const chunkStart = starts[i]!
        if (chunkStart + chunk.length > position) parts.push(chunk.subarray(Math.max(0, position - chunkStart), Math.min(chunk.length, end - chunkStart)))
      }
      return parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts)
    },
    async openAppend(path): Promise<AppendHandle> {
      if (!files.has(path)) files.set(path, [])
      return {
        async append(data) {
          stats.appends++
          const chunks = files.get(path)
          if (!chunks) throw enoent(path)
          chunks.push(Uint8Array.prototype.slice.call(data))
        },
        async sync() {
          stats.syncs++
        },
        async truncate(length) {
          const chunks = files.get(path)
          if (chunks) files.set(path, [concat(chunks).subarray(0, length)])
        },
        async close() {},
      }
    },
    async createExclusive(path, content) {
      if (files.has(path)) throw Object.assign(new Error(`EEXIST: '${path}'`), { code: 'EEXIST' })
      files.set(path, [Buffer.from(content)])
    },
    async truncate(path, length) {
      const chunks = files.get(path)
      if (!chunks) throw enoent(path)
      files.set(path, [concat(chunks).subarray(0, length)])
    },
    async unlink(path) {
      if (!files.delete(path)) throw enoent(path)
    },
    async syncDir() {
      stats.syncs++
    },
  }
}
