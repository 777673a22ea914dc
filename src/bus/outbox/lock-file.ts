import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DataDirLockedError } from '../errors.js'
import { isCode, type FileSystem } from '../files/file-system.js'

export interface DataDirLock {
  release(): Promise<void>
}

const lockFileName = 'mailroom.lock'

/**
 * One process per data directory. The lock file holds the owner's pid; a lock left by a process that
 * no longer runs (a crash, a SIGKILL) is taken over, like PostgreSQL's postmaster.pid.
 */
export async function acquireDataDirLock(fs: FileSystem, dataDir: string, pid = process.pid): Promise<DataDirLock> {
  await fs.mkdir(dataDir)
  const path = join(dataDir, lockFileName)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.createExclusive(path, `${pid}\n`)
      await fs.syncDir(dataDir)
      return {
        async release() {
          await fs.unlink(path).catch(() => {})
        },
      }
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error
    }
    const owner = Number.parseInt(Buffer.from(await fs.readFile(path).catch(() => new Uint8Array())).toString('utf8'), 10)
    if (Number.isInteger(owner) && owner > 0 && processIsRunning(owner)) throw new DataDirLockedError(path, owner)
    await fs.unlink(path).catch(() => {})
  }
  throw new DataDirLockedError(path, -1)
}

/**
 * True while `pid` runs. A process killed with SIGKILL stays a zombie until its parent reaps it, and
 * `kill(pid, 0)` still finds a zombie: on Linux, /proc says so, and a zombie holds no lock.
 */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return isCode(error, 'EPERM')
  }
  try {
    // /proc/<pid>/stat: "pid (command) state ..."; the command may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    // No /proc (not Linux), or the process ended meanwhile: trust kill(pid, 0).
    return true
  }
}
