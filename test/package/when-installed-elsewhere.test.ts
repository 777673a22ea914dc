import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** The files of the README's "Use the bus in your own project", as a reader copies them. */
function readmeFiles(): { file: string; text: string }[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('## Use the bus in your own project')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```js\n\/\/ file: (\S+)\n([\s\S]*?)```/g)].map((match) => ({ file: match[1]!, text: match[2]! }))
}

/** Plain Node: no TypeScript loader from this repository's test run. */
const plainEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !name.startsWith('VITEST')))
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

describe('the package, installed in a project outside the repository', () => {
  it('packs, installs, runs two modules and a handler test with plain node, and type-checks against its types', { timeout: 240_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-package-'))
    try {
      // 1. npm pack builds dist/ (prepack) and writes the tarball.
      run('npm', ['pack', '--pack-destination', dir, '--silent'], root)
      const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'))
      expect(tarball).toMatch(/^mailroom-\d+\.\d+\.\d+\.tgz$/)

      // 2. A new project installs it (npm adds the TypeBox peer); only what the package declares comes with it.
      const project = join(dir, 'project')
      mkdirSync(project)
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'shop-elsewhere', private: true, type: 'module' }))
      run('npm', ['install', join(dir, tarball!), '@types/node@20', '--no-audit', '--no-fund', '--prefer-offline'], project)
      const installed = readdirSync(join(project, 'node_modules'))
      expect(installed).toEqual(expect.arrayContaining(['mailroom', '@sinclair']))
      for (const appOnly of ['fastify', 'eta', 'tsx', 'rabbitmq-client', 'prom-client']) expect(installed).not.toContain(appOnly)

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

      // 5. TypeScript against the installed declarations (this repository's compiler, the project's files only).
      writeFileSync(join(project, 'typed.ts'), typedFile)
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['typed.ts'] }))
      run('node', [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], project)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
