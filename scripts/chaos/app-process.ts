import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const mainScript = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

/** A free loopback port, so a restarted app comes back where the load generator expects it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface AppProcess {
  readonly url: string
  /** SIGKILL: no shutdown of any kind. Resolves once the process is gone. */
  kill(): Promise<void>
  /** SIGTERM: the app closes the server and stops the bus. */
  stop(): Promise<void>
  /** Whether the process still runs (a process of modules that exited on its own is a bug: nothing killed it). */
  alive(): boolean
  /** What the app wrote to stderr, for a report when something goes wrong. */
  readonly errors: () => string
  /** The last of what it wrote to stdout (its log lines: JSON, as stdout is no terminal), at most 1 MiB. */
  readonly output: () => string
}

/** Of a long run's log, only the tail is kept (a chaos run writes several lines per order). */
const keptOutputChars = 1024 * 1024

/** Starts `npm start`'s entry point (or `main`, a copy's) as a child process on loopback; resolves once it listens. */
export async function startApp(options: { port: number; dataDir: string; env?: Record<string, string>; args?: readonly string[]; main?: string }): Promise<AppProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', options.main ?? mainScript, ...(options.args ?? [])], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(options.port), MAILROOM_DATA_DIR: options.dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let errors = ''
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.length > 2 * keptOutputChars) output = output.slice(output.indexOf('\n', output.length - keptOutputChars) + 1)
      if (output.includes('Mailroom is running')) resolve()
    })
    void exited.then(() => reject(new Error(`the app exited before it listened:\n${output}\n${errors}`)))
  })
  return {
    url: `http://127.0.0.1:${options.port}`,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
    errors: () => errors,
    output: () => output,
  }
}
