import { median, spread, type ScenarioResult } from './harness.js'

const format = (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(1))

/**
 * The ratio column: this row's median over its reference's, or, for a peer, how many times the Mailroom
 * row it is measured against outran it. Empty when the other row is not in the run (`--only`) or measured
 * nothing (a peer skipped).
 */
function ratioOf(result: ScenarioResult, byName: ReadonlyMap<string, ScenarioResult>): string {
  const m = median(result.rounds)
  const reference = result.reference ? byName.get(result.reference) : undefined
  if (reference) return `${(m / median(reference.rounds)).toFixed(2)}x ${reference.name.replace(/^ref: /, '')}`
  const mailroom = result.peerOf ? byName.get(result.peerOf) : undefined
  if (mailroom && m > 0) return `${mailroom.name} ÷ this: ${(median(mailroom.rounds) / m).toFixed(1)}x`
  return ''
}

/** The results as one Markdown table: what `npm run bench` prints and docs/performance.md quotes. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const byName = new Map(results.map((result) => [result.name, result]))
  const rows = results.map((result) => {
    const extra = Object.entries(result.extra ?? {}).map(([key, value]) => `${key} ${value}`).join(', ')
    return [result.name, `${format(median(result.rounds))} ${result.unit}`, `±${spread(result.rounds).toFixed(0)}%`, ratioOf(result, byName), extra, result.target ?? '']
  })
  const header = ['scenario', 'median', 'spread', 'ratio', 'also', 'target']
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}
