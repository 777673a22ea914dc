import { describe, expect, it } from 'vitest'
import { createBus, type Transport } from '../../src/bus/index.js'
import { StartedParts } from '../../src/bus/lifecycle/started-parts.js'
import { createEmbeddedTransport } from '../../src/bus/transport/embedded-transport.js'
import { createFixtureModules } from './support/shop-fixture.js'
import { useTempDirs } from './support/temp-dir.js'

const tempDir = useTempDirs()

describe('the parts a bus starts', () => {
  it('stop the last started first, every one of them, even after one fails to stop', async () => {
    const parts = new StartedParts()
    const stopped: string[] = []
    parts.add('journals', () => void stopped.push('journals'))
    parts.add('transport', () => {
      stopped.push('transport')
      throw new Error('socket already closed')
    })
    parts.add('scheduler', async () => void stopped.push('scheduler'))
    const failures = await parts.stopAll()
    expect(stopped).toEqual(['scheduler', 'transport', 'journals'])
    expect(failures).toEqual([{ part: 'transport', error: new Error('socket already closed') }])
    expect(await parts.stopAll()).toEqual([])
  })

  it('a start that fails half-way stops what it started: the data directory is free for the next start', async () => {
    const dataDir = tempDir()
    const { modules, routes } = createFixtureModules()
    const embedded = createEmbeddedTransport()
    const refusing: Transport = { ...embedded, start: async () => Promise.reject(new Error('the broker said no')), status: () => embedded.status() }
    const first = createBus({ modules, routes, dataDir, transport: refusing })
    await expect(first.start()).rejects.toThrow('the broker said no')
    // The journals it had opened were closed again, their lock released.
    const second = createBus({ modules, routes, dataDir })
    await second.start()
    await second.stop()
  })
})
