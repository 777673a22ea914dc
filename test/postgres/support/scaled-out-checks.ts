import { expect } from 'vitest'
import type { ScaledOutSummary } from '../../../scripts/chaos/scaled-out.js'

/**
 * What every scaled-out run must show, whatever carries its messages: each Billing instance killed, no process
 * stopped by itself, every order answered 202 shipped, billed and charged once and shown right by the console,
 * none shipped without its 202, and the console seeing each process of each module. `report` says why on failure.
 */
export function expectEveryOrderOnce(summary: ScaledOutSummary, report: string, atLeastAccepted: number): void {
  expect(summary.kills.map((kill) => kill.instance).slice(0, 2).sort(), report).toEqual(['billing-1', 'billing-2'])
  // Orders placed while the database was away are refused (not 202): the others all go through.
  expect(summary.accepted, report).toBeGreaterThan(atLeastAccepted)
  expect(summary.exitedByThemselves, report).toEqual([])
  expect(summary.missing, report).toEqual([])
  expect(summary.failed, report).toEqual([])
  expect(summary.billedTwice, report).toEqual([])
  expect(summary.shippedTwice, report).toEqual([])
  expect(summary.chargedTwice, report).toEqual([])
  expect(summary.notCharged, report).toEqual([])
  expect(summary.seen, report).toMatchObject({ unlisted: [], wrongState: [], incompleteConversations: [] })
  // None told it failed and gone through: a send whose commit's answer the outage cut off asks the database once it is back.
  expect(summary.shippedUnacknowledged, report).toBe(0)
  // The console (the web process) shows every module as running elsewhere, each of its processes reporting.
  expect(summary.console.map(({ name, location, reporting }) => `${name} ${location} ${reporting}`).sort(), report).toEqual(['billing elsewhere 2', 'sales elsewhere 1', 'shipping elsewhere 2'])
  expect(summary.ok, report).toBe(true)
}
