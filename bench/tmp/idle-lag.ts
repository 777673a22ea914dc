import { withLagProbe } from '../harness.js'
for (let i = 0; i < 3; i++) {
  const { maxLagMs, p99LagMs } = await withLagProbe(() => new Promise((r) => setTimeout(r, 1000)))
  console.log(`idle: max lag ${maxLagMs.toFixed(1)} ms, p99 ${p99LagMs.toFixed(1)} ms`)
  const busy = await withLagProbe(async () => { const end = performance.now() + 1000; while (performance.now() < end) { await new Promise((r) => setImmediate(r)); const t = performance.now(); while (performance.now() - t < 0.5); } })
  console.log(`0.5 ms tasks: max lag ${busy.maxLagMs.toFixed(1)} ms, p99 ${busy.p99LagMs.toFixed(1)} ms`)
}
