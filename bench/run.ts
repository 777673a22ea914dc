/**
 * `npm run bench` (and `npm run bench -- --quick`): every scenario, several rounds each, one table,
 * and the same as JSON under bench/results/. Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type BenchOptions, type Scenario, type ScenarioResult } from './harness.js'
import { busScenarios } from './scenarios/bus.js'
import { dataScenarios } from './scenarios/data.js'
import { httpScenarios } from './scenarios/http.js'
import { peerScenarios } from './scenarios/peers.js'
import { postgresScenarios } from './scenarios/postgres.js'
import { referenceScenarios } from './scenarios/references.js'
import { formatTable } from './table.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string', multiple: true },
  },
})
const groups: Record<string, Scenario> = { references: referenceScenarios, bus: busScenarios, data: dataScenarios, http: httpScenarios, peers: peerScenarios, postgres: postgresScenarios }
const options: BenchOptions = { quick: values.quick ?? false, rounds: Number(values.rounds ?? (values.quick ? 1 : 3)) }
if (!Number.isInteger(options.rounds) || options.rounds < 1) {
  console.error(`Expected --rounds to be an integer ≥ 1, got '${values.rounds}'.`)
  process.exit(2)
}
const selected = values.only ?? Object.keys(groups)
for (const name of selected) {
  if (!groups[name]) {
    console.error(`Unknown --only '${name}'. Choose from: ${Object.keys(groups).join(', ')}.`)
    process.exit(2)
  }
}
if (!globalThis.gc) console.warn('(run with node --expose-gc for heap-per-message figures; npm run bench does)')

const results: ScenarioResult[] = []
const started = Date.now()
for (const name of selected) {
  process.stderr.write(`running ${name}...\n`)
  results.push(...(await groups[name]!(options)))
}

const table = formatTable(results)
console.log(`\nMailroom bench (${options.quick ? 'quick' : 'full'}, ${options.rounds} round${options.rounds === 1 ? '' : 's'}, ${((Date.now() - started) / 1000).toFixed(0)} s, Node ${process.version})\n`)
console.log(table)

mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
const file = new URL(`./results/${new Date().toISOString().replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}.json`, import.meta.url)
writeFileSync(file, `${JSON.stringify({ options, node: process.version, results }, null, 2)}\n`)
console.log(`\nwritten: ${file.pathname}`)
process.exit(0)
