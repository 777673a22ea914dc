import { describe, expect, it } from 'vitest'
import type { AdminApi } from '../../../src/bus/admin/admin-api.js'
import { createConsoleNode } from '../../../src/bus/console-link/console-node.js'
import { createSignals } from '../../../src/bus/signals.js'

describe('a console node', () => {
  it('reports a signal of another process that a listener here cannot take, and goes on', () => {
    const signals = createSignals()
    const node = createConsoleNode({ localModules: ['web'], allModules: ['web', 'billing'], admin: {} as AdminApi, signals, views: {} })
    const errors: string[] = []
    signals.on('bus:error', ({ during }) => errors.push(during))
    signals.on('message:failed', (signal) => void signal.failure.type)
    // A report with a failure the listener expects and does not find (as an older or broken process may send).
    const report = { name: 'message:failed', payload: { module: 'billing', id: 'm-1', type: 'OrderPlaced', kind: 'event', conversationId: 'c-1', origin: 'sales', at: 1, next: 'error-queue' } }
    expect(() => node.remoteSignal(report as never)).not.toThrow()
    expect(errors).toEqual(['taking a message:failed signal reported by another process'])
    node.stop()
  })
})
