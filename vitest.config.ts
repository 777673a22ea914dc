import { defineConfig } from 'vitest/config'

/**
 * Tests that start processes (the app, crash workers, npm), drive a browser or need RabbitMQ: the full
 * run only. Everything else is the unit tier (`npm run test:unit`), which runs in seconds.
 */
const systemTests = [
  'test/browser/**',
  'test/transport/**',
  'test/crash/**',
  'test/chaos/**',
  'test/package/**',
  'test/postgres/**',
  'test/bench/bench-runs.test.ts',
  'test/start-up-failures.test.ts',
  'test/telemetry/when-npm-start-exports-telemetry.test.ts',
  'test/docs/workshop-add-a-subscriber.test.ts',
  'test/scenarios/when-a-long-queue-waits.test.ts',
  // A load test: two campaigns of 200 orders over loopback HTTP.
  'test/scenarios/when-a-campaign-meets-the-synchronous-chain.test.ts',
]

export default defineConfig({
  test: {
    // Crash and browser tests spawn processes; two workers match this 2-core machine.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: systemTests, typecheck: { enabled: true, include: ['test/types/**/*.test-d.ts'] } },
      },
      { extends: true, test: { name: 'system', include: systemTests.map((glob) => (glob.endsWith('/**') ? `${glob}/*.test.ts` : glob)) } },
    ],
  },
})
