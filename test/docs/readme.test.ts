import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')
/** Other pages whose excerpts are checked the same way. */
const pages = ['docs/postgres.md'].map((page) => ({ page, text: readFileSync(new URL(page, root), 'utf8') }))

/** Every `// file: <path>` excerpt in the README's code blocks, with its lines. */
function excerpts(markdown: string): { file: string; lines: string[] }[] {
  const found: { file: string; lines: string[] }[] = []
  for (const block of markdown.matchAll(/```ts\n([\s\S]*?)```/g)) {
    let current: { file: string; lines: string[] } | undefined
    for (const line of block[1]!.split('\n')) {
      const header = /^\/\/ file: (\S+)$/.exec(line.trim())
      if (header) found.push((current = { file: header[1]!, lines: [] }))
      else if (current && line.trim()) current.lines.push(line.trim())
    }
  }
  return found
}

describe('the README', () => {
  it('opens with the install-and-start and the test commands', () => {
    const firstBlock = /```\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(firstBlock).toContain('npm install && npm start')
    expect(firstBlock).toContain('npm test')
  })

  const blocks = excerpts(readme)
  it('has code excerpts to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5)
  })

  it.each(blocks.map((block) => [block.file, block] as const))('quotes %s as it is', (file, block) => {
    const source = readFileSync(new URL(file, root), 'utf8').split('\n').map((line) => line.trim())
    const missing = block.lines.filter((line) => !source.includes(line))
    expect(missing, `lines of README not in ${file}`).toEqual([])
  })
})

describe.each(pages)('$page', ({ text }) => {
  it.each(excerpts(text).map((block) => [block.file, block] as const))('quotes %s as it is', (file, block) => {
    const source = readFileSync(new URL(file, root), 'utf8').split('\n').map((line) => line.trim())
    const missing = block.lines.filter((line) => !source.includes(line))
    expect(missing, `lines not in ${file}`).toEqual([])
  })
})
