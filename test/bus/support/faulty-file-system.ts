import type { FileSystem } from '../../../src/bus/index.js'
import { createMemoryFileSystem } from '../../../src/bus/files/memory-file-system.js'

/**
 * A memory file system whose syncs can be held or failed per path, to watch what the bus does while
 * a commit is pending or after a disk error.
 */
export function createFaultyFileSystem() {
  const base = createMemoryFileSystem()
  const gates = new Map<string, { open: Promise<void>; release: () => void; entered: Promise<void>; enter: () => void }>()
  const failing = new Set<string>()
  const matches = (path: string, fragment: string) => path.includes(`/${fragment}/`)

  const fs: FileSystem = {
    ...base,
    stats: base.stats,
    async openAppend(path) {
      const handle = await base.openAppend(path)
      return {
        ...handle,
        async sync() {
          for (const [fragment, gate] of gates) {
            if (matches(path, fragment)) {
              gate.enter()
              await gate.open
            }
          }
          for (const fragment of failing) {
            if (matches(path, fragment)) throw Object.assign(new Error(`EIO: i/o error, fdatasync '${path}'`), { code: 'EIO' })
          }
          await handle.sync()
        },
      }
    },
  }
  return {
    fs,
    /** Holds every sync of the journal directory named `fragment` until released; `entered` resolves at the first one. */
    hold(fragment: string) {
      let release!: () => void
      let enter!: () => void
      const open = new Promise<void>((resolve) => (release = resolve))
      const entered = new Promise<void>((resolve) => (enter = resolve))
      gates.set(fragment, { open, release, entered, enter })
      return {
        entered,
        release() {
          gates.delete(fragment)
          release()
        },
      }
    },
    fail(fragment: string) {
      failing.add(fragment)
    },
    heal(fragment: string) {
      failing.delete(fragment)
    },
  }
}
