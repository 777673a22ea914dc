import { describe, expect, it } from 'vitest'
import { MailroomError, RouteNotFoundError, UnrecoverableError } from '../../../src/bus/index.js'
import { decideAfterFailure, defaultRecoverability, describeSchedule } from '../../../src/bus/recoverability/policy.js'

describe('decideAfterFailure', () => {
  it.each([
    [new Error('x'), 0, { kind: 'delayed-retry', round: 1, delayMs: 2_000 }],
    [new Error('x'), 1, { kind: 'delayed-retry', round: 2, delayMs: 4_000 }],
    [new Error('x'), 2, { kind: 'delayed-retry', round: 3, delayMs: 8_000 }],
    [new Error('x'), 3, { kind: 'error-queue', reason: 'exhausted' }],
    [new UnrecoverableError('x'), 0, { kind: 'error-queue', reason: 'unrecoverable' }],
    [new RouteNotFoundError('X'), 0, { kind: 'error-queue', reason: 'unrecoverable' }],
    [new MailroomError('MAILROOM_ERR_JOURNAL_WRITE_FAILED', 'disk'), 0, { kind: 'delayed-retry', round: 1, delayMs: 2_000 }],
    ['a thrown string', 0, { kind: 'delayed-retry', round: 1, delayMs: 2_000 }],
  ])('decides %s after %i delayed rounds', (error, rounds, expected) => {
    expect(decideAfterFailure(error, rounds, defaultRecoverability)).toEqual(expected)
  })
})

describe('describeSchedule', () => {
  it.each([
    [defaultRecoverability, '3 immediate, then 2 s, 4 s, 8 s; 16 attempts at most'],
    [{ immediateRetries: 0, delayedRetries: { count: 0, baseDelayMs: 0 } }, '0 immediate, no delayed retries; 1 attempt at most'],
    [{ immediateRetries: 1, delayedRetries: { count: 2, baseDelayMs: 500 } }, '1 immediate, then 500 ms, 1 s; 6 attempts at most'],
    [{ immediateRetries: 5, delayedRetries: { count: 2, baseDelayMs: 45_000 } }, '5 immediate, then 45 s, 1.5 min; 18 attempts at most'],
  ])('states %j as people read it', (config, text) => {
    expect(describeSchedule(config).text).toBe(text)
  })
})
