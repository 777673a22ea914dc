import type { DataPoint } from '@opentelemetry/sdk-metrics'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createAmqpTransport } from '../../src/bus/amqp.js'
import { createBus, type Bus } from '../../src/bus/index.js'
import { createFixtureLog, createFixtureModules, TakeOrder } from '../bus/support/shop-fixture.js'
import { startRecordedTelemetry } from '../telemetry/support/traced-shop.js'
import { brokerAvailable, brokerUrl, deleteNamespace, queueLength, testNamespace } from './support/broker.js'

const available = await brokerAvailable()
const recorded = startRecordedTelemetry()
afterAll(() => recorded.telemetry.shutdown())
const started: Bus[] = []
const namespaces: string[] = []
afterEach(async () => {
  for (const bus of started.splice(0)) await bus.stop()
  for (const namespace of namespaces.splice(0)) await deleteNamespace(namespace, ['orders', 'payments', 'notifications'])
})

/** The latest `mailroom.queue.length` of `module` as the SDK collected it. */
async function queueGauge(module: string): Promise<number | undefined> {
  const latest = (await recorded.metrics()).getMetrics().at(-1)
  const gauge = latest?.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === 'mailroom.queue.length')
  return (gauge?.dataPoints as DataPoint<number>[] | undefined)?.find((point) => point.attributes['messaging.destination.name'] === module)?.value
}

describe.skipIf(!available)("the queue-length metric with RabbitMQ", () => {
  it("counts what waits at the broker beside what this process took ahead", async () => {
    const namespace = testNamespace('gauge')
    namespaces.push(namespace)
    const log = createFixtureLog()
    const make = (runHere: string[]) => {
      const fixture = createFixtureModules({ log, concurrency: 1 })
      const bus = createBus({ modules: fixture.modules, routes: fixture.routes, storage: 'memory', runHere, transport: createAmqpTransport({ url: brokerUrl, namespace }) })
      started.push(bus)
      return bus
    }
    const back = make(['payments', 'notifications'])
    const front = make(['orders'])
    await back.start()
    await front.start()
    // Notifications stopped: of 40 messages it takes a few ahead (its prefetch), the rest wait at the broker.
    back.admin.stopModule('notifications')
    for (let i = 0; i < 40; i++) await front.send(TakeOrder, { orderId: `o-${i}`, amount: i })
    await expect.poll(() => log.confirmed.length, { timeout: 15_000 }).toBe(40)
    await expect.poll(() => queueLength(namespace, 'notifications'), { timeout: 15_000 }).toBeGreaterThan(0)
    const atBroker = await queueLength(namespace, 'notifications')
    const here = back.admin.module('notifications').queueLength
    expect(here + atBroker).toBe(40)
    expect(here).toBeLessThan(40)
    await expect.poll(() => queueGauge('notifications'), { timeout: 15_000 }).toBe(40)
  })
})
