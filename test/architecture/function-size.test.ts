import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** A function longer than this is a component waiting to be named (each role in a file of its own). */
const maxLines = 120

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** Every function (declaration, expression, arrow, method) of `file` longer than `limit` lines, as `file name` → lines. */
export function longFunctions(file: string, text: string, limit: number): Map<string, number> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found = new Map<string, number>()
  const visit = (node: ts.Node) => {
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node)) {
      const lines = source.getLineAndCharacterOfPosition(node.getEnd()).line - source.getLineAndCharacterOfPosition(node.getStart()).line + 1
      const name = node.name?.getText() ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : `(anonymous at line ${source.getLineAndCharacterOfPosition(node.getStart()).line + 1})`)
      if (lines > limit) found.set(`${file} ${name}`, lines)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('the functions of src/bus', () => {
  const long = new Map(sourceFiles(join(root, 'src/bus')).flatMap((path) => [...longFunctions(relative(root, path), readFileSync(path, 'utf8'), maxLines)]))

  it(`are at most ${maxLines} lines each`, () => {
    expect([...long].map(([name, lines]) => `${name}: ${lines} lines`)).toEqual([])
  })

  it('finds a long function, as a component is measured', () => {
    const body = Array.from({ length: 130 }, (_, i) => `  const a${i} = ${i}`).join('\n')
    expect(longFunctions('x.ts', `export function createGiant() {\n${body}\n}\n`, maxLines)).toEqual(new Map([['x.ts createGiant', 132]]))
  })
})
