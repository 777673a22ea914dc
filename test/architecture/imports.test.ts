import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const src = join(root, 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** Every relative import of a file, resolved to a path under src/ (as `src/...`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((match) => match[1] ?? match[2]!)
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(dirname(file), s)).replace(/\.js$/, '.ts'))
}

const files = sourceFiles(src).map((file) => ({ file: relative(root, file), imports: importsOf(file) }))

/** The rules of DESIGN.md §1; returns why an import is forbidden, or undefined. */
function violation(from: string, to: string): string | undefined {
  // The journal files are one persistence; the bus's parts reach it through its roles
  // (src/bus/persistence/persistence.ts, data/module-tables.ts), so another (a database) can take its place
  // with only the composition at the bus's root choosing.
  const composition = ['src/bus/create-bus.ts', 'src/bus/bus-persistence.ts']
  if (to.startsWith('src/bus/outbox/') && from.startsWith('src/bus/') && !from.startsWith('src/bus/outbox/') && !composition.includes(from)) {
    return 'the bus reaches its persistence through src/bus/persistence/persistence.ts; only the composition chooses the journal files'
  }
  // The composition (createBus, its options, the entry points) is the top: nothing below it imports it back,
  // but the test kit, which builds buses.
  const top = ['src/bus/create-bus.ts', 'src/bus/bus-options.ts', 'src/bus/bus-persistence.ts', 'src/bus/define-module.ts', 'src/bus/index.ts', 'src/bus/amqp.ts', 'src/bus/postgres.ts']
  if (top.includes(to) && /^src\/bus\/[^/]+\//.test(from) && !from.startsWith('src/bus/testing/')) return 'nothing below the composition imports it back'
  if (from.startsWith('src/bus/') && (to.startsWith('src/modules/') || to.startsWith('src/web/') || to === 'src/main.ts')) return 'the bus imports no module and nothing of the web'
  const fromModule = /^src\/modules\/([^/]+)\//.exec(from)?.[1]
  if (fromModule) {
    const toModule = /^src\/modules\/([^/]+)\/(.+)$/.exec(to)
    if (toModule && toModule[1] !== fromModule && toModule[2] !== 'messages.ts') return `a module may import only another module's messages.ts`
    if (to.startsWith('src/web/') || to === 'src/main.ts') return 'a module does not import the web'
    if (to.startsWith('src/bus/') && to !== 'src/bus/index.ts' && !to.startsWith('src/bus/testing/')) return 'modules use the bus through src/bus/index.ts'
  }
  if (from.startsWith('src/web/')) {
    if (to === 'src/main.ts' || to === 'src/shop.ts') return 'the web does not import the composition root'
    if (to.startsWith('src/modules/') && !to.endsWith('/messages.ts')) return "the web reaches modules only through their messages.ts"
    if (to.startsWith('src/bus/') && to !== 'src/bus/index.ts') return 'the web uses the public bus API only'
  }
  return undefined
}

/** The import cycles of a graph (its strongly connected parts of two files or more), Tarjan's way. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (file: string) => {
    index.set(file, next)
    low.set(file, next++)
    stack.push(file)
    onStack.add(file)
    for (const to of graph.get(file) ?? []) {
      if (!graph.has(to)) continue
      if (!index.has(to)) {
        visit(to)
        low.set(file, Math.min(low.get(file)!, low.get(to)!))
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, index.get(to)!))
    }
    if (low.get(file) !== index.get(file)) return
    const part: string[] = []
    let member: string
    do {
      member = stack.pop()!
      onStack.delete(member)
      part.push(member)
    } while (member !== file)
    if (part.length > 1 || graph.get(file)?.includes(file)) cycles.push(part.sort())
  }
  for (const file of graph.keys()) if (!index.has(file)) visit(file)
  return cycles
}

describe('the import graph of src/', () => {
  it('has no cycle, counting type-only imports: each file can be read, built and replaced on its own', () => {
    expect(importCycles(new Map(files.map(({ file, imports }) => [file, imports])))).toEqual([])
  })

  it('finds a cycle when there is one', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])
    expect(importCycles(graph)).toEqual([['a', 'b', 'c']])
  })
})

describe('the import rules', () => {
  it('finds the source files it checks', () => {
    expect(files.length).toBeGreaterThan(20)
  })

  it('holds for every import in src/', () => {
    const broken = files.flatMap(({ file, imports }) => imports.flatMap((to) => {
      const why = violation(file, to)
      return why ? [`${file} -> ${to}: ${why}`] : []
    }))
    expect(broken).toEqual([])
  })

  it.each([
    ['src/bus/pipeline/incoming.ts', 'src/bus/outbox/outbox.ts'],
    ['src/bus/admin/create-admin.ts', 'src/bus/outbox/journal.ts'],
    ['src/bus/transport/transport-host.ts', 'src/bus/outbox/delivery-ledger.ts'],
    ['src/bus/data/table.ts', 'src/bus/outbox/module-data.ts'],
    ['src/bus/pipeline/incoming.ts', 'src/bus/create-bus.ts'],
    ['src/bus/persistence/postgres/postgres-persistence.ts', 'src/bus/bus-options.ts'],
    ['src/bus/pipeline/incoming.ts', 'src/bus/define-module.ts'],
    ['src/bus/create-bus.ts', 'src/modules/sales/index.ts'],
    ['src/modules/billing/handlers/x.ts', 'src/modules/sales/handlers/place-order.ts'],
    ['src/modules/billing/index.ts', 'src/bus/outbox/journal.ts'],
    ['src/web/app.ts', 'src/modules/sales/index.ts'],
    ['src/web/app.ts', 'src/bus/outbox/journal.ts'],
    ['src/web/app.ts', 'src/shop.ts'],
  ])('rejects %s importing %s', (from, to) => {
    expect(violation(from, to)).toBeDefined()
  })

  it.each([
    ['src/modules/billing/handlers/x.ts', 'src/modules/sales/messages.ts'],
    ['src/modules/billing/index.ts', 'src/bus/index.ts'],
    ['src/main.ts', 'src/modules/sales/index.ts'],
    ['src/bus/bus-persistence.ts', 'src/bus/outbox/outbox.ts'],
    ['src/bus/testing/transport-conformance.ts', 'src/bus/create-bus.ts'],
  ])('allows %s importing %s', (from, to) => {
    expect(violation(from, to)).toBeUndefined()
  })
})
