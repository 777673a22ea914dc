import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startApp, type AppProcess } from '../../../scripts/chaos/app-process.js'
import { brokerUrl, deleteNamespace, testNamespace } from './broker.js'

const shopModules = ['sales', 'billing', 'shipping']
/** Every process started, so a test's afterEach can kill what is left. */
export const running: AppProcess[] = []
const cleanups: (() => Promise<void> | void)[] = []

/** Kills every process still running, then removes the data directories and the broker namespace. */
export async function stopFourProcesses(): Promise<void> {
  for (const app of running.splice(0)) await app.kill()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
}

/**
 * The shop as four processes on one broker, through `npm start`'s entry point: Sales, Billing and
 * Shipping each alone, and the console (`web`). Each has its own data directory; `start(part)` starts
 * one again (after a kill).
 */
export async function startFourProcesses(label: string, extraEnv: Record<string, string> = {}) {
  const namespace = testNamespace(label)
  const root = mkdtempSync(join(tmpdir(), 'mailroom-four-'))
  cleanups.push(() => rmSync(root, { recursive: true, force: true }))
  cleanups.push(() => deleteNamespace(namespace, shopModules))
  const env = {
    MAILROOM_TRANSPORT: brokerUrl,
    MAILROOM_AMQP_NAMESPACE: namespace,
    MAILROOM_BUYERS_REMORSE_MS: '0',
    MAILROOM_GATEWAY_LIMIT: 'off',
    MAILROOM_BILLING_RATE: 'off',
    MAILROOM_BILLING_WAIT_MS: '600000',
    MAILROOM_RETRY_BASE_MS: '100',
    MAILROOM_DELAYED_RETRIES: '1',
    // Every record stays, so a test can count what each module did.
    MAILROOM_COMPACTION: 'off',
    ...extraEnv,
  }
  const dataDirOf = (part: string) => join(root, part)
  /** `dir`: the process's data directory under the run's root (a second process of one module needs its own). */
  const start = async (part: string, dir = part) => {
    const app = await startApp({ port: part === 'web' ? await freePort() : 0, dataDir: dataDirOf(dir), env, args: ['--modules', part] })
    running.push(app)
    return app
  }
  const processes: Record<string, AppProcess> = {}
  for (const part of [...shopModules, 'web']) processes[part] = await start(part)
  return { processes, dataDirOf, start, namespace }
}
