import { describe, expect, it } from 'vitest'
import { createBus, InvalidBusOptionError } from '../../src/bus/index.js'
import { createFixtureModules } from './support/shop-fixture.js'

describe("createBus's options", () => {
  it('refuses an option it does not take, naming it, instead of running with the default', () => {
    const { modules, routes } = createFixtureModules()
    const misspelt = () => createBus({ modules, routes, storage: 'memory', dataDri: './elsewhere' } as never)
    expect(misspelt).toThrow(InvalidBusOptionError)
    expect(misspelt).toThrow(/^Expected `dataDri` to be one of modules, routes, dataDir/)
  })

  it('refuses a console link that is not one', () => {
    const { modules, routes } = createFixtureModules()
    expect(() => createBus({ modules, routes, storage: 'memory', consoleLink: {} as never })).toThrow(/Expected `consoleLink` to be a console link/)
  })
})
