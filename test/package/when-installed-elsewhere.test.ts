import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from '../postgres/support/postgres.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const withPostgres = await postgresAvailable()

/** The files of the README's "Use the bus in your own project", as a reader copies them. */
function readmeFiles(): { file: string; text: string }[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('## Use the bus in your own project')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```js\n\/\/ file: (\S+)\n([\s\S]*?)```/g)].map((match) => ({ file: match[1]!, text: match[2]! }))
}

/**
 * A stranger's shell: no TypeScript loader from this repository's test run, and none of the npm settings
 * that `npm test` passes down to its children (this repository's engine-strict among them).
 */
const plainEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !name.startsWith('VITEST') && !name.toLowerCase().startsWith('npm_')))
const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, env: plainEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })

/** A TypeScript file of a user's: compiles against the installed types, and the types are real (not `any`). */
const typedFile = `import { Type } from '@sinclair/typebox'
import { createBus, defineCommand, defineModule, handle, type BodyOf } from 'mailroom'
import { createRecordingContext, invoke } from 'mailroom/testing'

const Ping = defineCommand('Ping', Type.Object({ n: Type.Number() }))
const ping = handle(Ping, async (body, context) => {
  const n: number = body.n
  context.log.info(String(n))
})
const bus = createBus({ storage: 'memory', modules: [defineModule({ name: 'pong', handlers: [ping] })], routes: { Ping: 'pong' } })

export async function check(): Promise<void> {
  const body: BodyOf<typeof Ping> = { n: 1 }
  await invoke(ping, body, createRecordingContext())
  await bus.start()
  await bus.send(Ping, { n: 2 })
  // @ts-expect-error: the body is typed from the schema
  await bus.send(Ping, { n: 'two' })
}
`

/** The PostgreSQL persistence in a project's own bus: a handler's SQL in its transaction, a document, a restart. */
const postgresFile = `import { Type } from '@sinclair/typebox'
import { createBus, defineCommand, defineModule, defineTable, handle } from 'mailroom'
import { postgresPersistence, transactionClient } from 'mailroom/postgres'

const Notes = defineTable('notes', Type.Object({ n: Type.Number() }))
const Note = defineCommand('Note', Type.Object({ key: Type.String() }))
const notes = defineModule({
  name: 'notes',
  tables: [Notes],
  handlers: [
    handle(Note, async ({ key }, context) => {
      const { rows } = await (await transactionClient(context)).query('SELECT 41 + 1 AS n')
      context.table(Notes).put(key, { n: rows[0].n })
    }),
  ],
})
const open = () => createBus({ modules: [notes], routes: { Note: 'notes' }, persistence: postgresPersistence({ connectionString: process.env.URL, prefix: process.env.PREFIX }) })
let bus = open()
await bus.start()
await bus.send(Note, { key: 'a' })
await bus.idle()
await bus.stop()
bus = open()
await bus.start()
console.log(JSON.stringify({ a: await bus.table(Notes).get('a'), count: await bus.table(Notes).count() }))
await bus.stop()
`

/** The console mounted read-only under /ops in a project's Fastify app; prints what each request answered. */
const consoleFile = `import Fastify from 'fastify'
import { createBus } from 'mailroom'
import { mailroomConsole } from 'mailroom/console'
import { sales } from './sales.mjs'

const bus = createBus({ storage: 'memory', modules: [sales], routes: { PlaceOrder: 'sales' } })
await bus.start()
const app = Fastify()
app.get('/', async () => 'my app')
await app.register(mailroomConsole, { bus, prefix: '/ops', readOnly: true, metricsIntervalMs: 60000 })
const status = async (method, url) => (await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: method === 'GET' ? undefined : '{}' })).statusCode
console.log(JSON.stringify({
  home: await status('GET', '/ops/'),
  failed: await status('GET', '/ops/failed'),
  monitoring: await status('GET', '/ops/monitoring'),
  script: await status('GET', '/ops/assets/app.js'),
  modules: await status('GET', '/ops/api/modules'),
  stop: await status('POST', '/ops/api/modules/sales/stop'),
  own: (await app.inject({ method: 'GET', url: '/' })).body,
}))
await app.close()
await bus.stop()
`

describe('the package, installed in a project outside the repository', () => {
  it('packs, installs, runs two modules and a handler test with plain node, type-checks against its types, mounts its console, and keeps data in PostgreSQL', { timeout: 240_000 }, async () => {
    const prefix = testPrefix('package')
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-package-'))
    try {
      // 1. npm pack builds dist/ (prepack) and writes the tarball.
      run('npm', ['pack', '--pack-destination', dir, '--silent'], root)
      const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'))
      expect(tarball).toMatch(/^mailroom-\d+\.\d+\.\d+\.tgz$/)

      // 2. A new project installs it (npm adds the TypeBox and OpenTelemetry API peers); only what the package declares comes with it.
      const project = join(dir, 'project')
      mkdirSync(project)
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'shop-elsewhere', private: true, type: 'module' }))
      run('npm', ['install', join(dir, tarball!), '@types/node@20', '--no-audit', '--no-fund', '--prefer-offline'], project)
      const installed = readdirSync(join(project, 'node_modules'))
      expect(installed).toEqual(expect.arrayContaining(['mailroom', '@sinclair']))
      // Optional peers (the AMQP client, the console's Fastify and its helpers) come only when asked for.
      for (const notAskedFor of ['fastify', 'eta', 'tsx', 'rabbitmq-client', 'pg', 'prom-client', 'helmet', 'pino']) expect(installed).not.toContain(notAskedFor)
      // OpenTelemetry: the API only (a peer npm adds: a no-op until the application registers an SDK), never an SDK.
      expect(readdirSync(join(project, 'node_modules', '@opentelemetry'))).toEqual(['api'])

      // 3. The README's files, run with plain node.
      const files = readmeFiles()
      expect(files.map((file) => file.file)).toEqual(['sales.mjs', 'app.mjs', 'sales.test.mjs'])
      for (const { file, text } of files) writeFileSync(join(project, file), text)
      expect(run('node', ['app.mjs'], project)).toContain('Shipping o-1')
      expect(readdirSync(join(project, 'data'))).toEqual(expect.arrayContaining(['sales', 'shipping']))
      expect(run('node', ['--test', 'sales.test.mjs'], project)).toMatch(/# pass 1\n# fail 0/)

      // 4. The bus loads without the AMQP client; mailroom/amqp says what it needs.
      expect(run('node', ['--input-type=module', '-e', "const bus = await import('mailroom'); console.log(typeof bus.createBus)"], project).trim()).toBe('function')
      expect(() => run('node', ['--input-type=module', '-e', "await import('mailroom/amqp')"], project)).toThrow(/rabbitmq-client/)
      expect(() => run('node', ['--input-type=module', '-e', "await import('mailroom/postgres')"], project)).toThrow(/'pg'/)

      // 5. TypeScript against the installed declarations (this repository's compiler, the project's files only).
      writeFileSync(join(project, 'typed.ts'), typedFile)
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['typed.ts'] }))
      run('node', [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], project)

      // 6. mailroom/console in the project's own Fastify app, under a prefix, once its peers are installed.
      const peers = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> }
      const consolePeers = Object.keys(peers.peerDependencies).filter((name) => peers.peerDependenciesMeta[name]?.optional && name !== 'rabbitmq-client' && name !== 'pg')
      run('npm', ['install', ...consolePeers.map((name) => `${name}@${peers.peerDependencies[name]}`), '--no-audit', '--no-fund', '--prefer-offline'], project)
      writeFileSync(join(project, 'ops.mjs'), consoleFile)
      const served = JSON.parse(run('node', ['ops.mjs'], project)) as Record<string, number | string>
      expect(served).toMatchObject({ home: 200, failed: 200, monitoring: 200, script: 200, modules: 200, stop: 403, own: 'my app' })

      // 7. mailroom/postgres once pg is installed: the handler's SQL and its document, kept across a restart.
      if (withPostgres) {
        run('npm', ['install', `pg@${peers.peerDependencies.pg}`, '--no-audit', '--no-fund', '--prefer-offline'], project)
        writeFileSync(join(project, 'notes-on-postgres.mjs'), postgresFile)
        const output = execFileSync('node', ['notes-on-postgres.mjs'], { cwd: project, env: { ...plainEnv, URL: postgresUrl, PREFIX: prefix }, encoding: 'utf8', timeout: 60_000 })
        expect(JSON.parse(output)).toEqual({ a: { n: 42 }, count: 1 })
      }
    } finally {
      if (withPostgres) {
        const pool = new Pool({ connectionString: postgresUrl, max: 1 })
        await dropSchemas(pool, prefix)
        await pool.end()
      }
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
