import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Every test file, with its text. */
function testFiles(dir = join(root, 'test')): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(path)
    return entry.name.endsWith('.ts') ? [{ path: path.slice(root.length), text: readFileSync(path, 'utf8') }] : []
  })
}

/**
 * docs/workshop.md promises that each exercise works as written: a test that performs it says so with a
 * line `// Performs docs/workshop.md, exercise "<its title>".` An exercise added, or renamed, without
 * such a test fails here, and so does a test that names an exercise the workshop no longer has.
 */
describe('docs/workshop.md: every exercise is performed by a test', () => {
  const doc = readFileSync(join(root, 'docs/workshop.md'), 'utf8')
  const exercises = [...doc.matchAll(/^## (\d+)\. (.+)$/gm)].map((match) => ({ number: Number(match[1]), title: match[2]! }))
  const marks = testFiles().flatMap((file) => [...file.text.matchAll(/^\s*\/\/ Performs docs\/workshop\.md, exercise "(.+)"\.$/gm)].map((match) => ({ title: match[1]!, path: file.path })))

  it('numbers the exercises 1, 2, 3, … in order', () => {
    expect(exercises.length).toBeGreaterThanOrEqual(10)
    expect(exercises.map((exercise) => exercise.number)).toEqual(exercises.map((_, i) => i + 1))
  })

  it('has a test for each exercise', () => {
    const untested = exercises.filter((exercise) => !marks.some((mark) => mark.title === exercise.title)).map((exercise) => `${exercise.number}. ${exercise.title}`)
    expect(untested).toEqual([])
  })

  it('has no test naming an exercise the workshop does not have', () => {
    const titles = new Set(exercises.map((exercise) => exercise.title))
    expect(marks.filter((mark) => !titles.has(mark.title))).toEqual([])
  })
})
