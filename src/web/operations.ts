import { Type } from '@sinclair/typebox'
import type { Bus, ModuleStatus, RetryResult, DeleteResult } from '../bus/index.js'
import { InvalidRequestError, NotFoundError } from './errors.js'
import { groupFailures } from './failed-groups.js'

/** A module's name, as a path parameter. */
export const ModuleName = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$' })

/**
 * What a person can do in the console, each done in one place: the HTML forms (/actions) and the JSON
 * API (/api) are two ways in, reading their input their own way, to the same operation.
 */
export interface ConsoleOperations {
  stopModule(name: string): ModuleStatus
  startModule(name: string): ModuleStatus
  setFault(name: string, on: boolean): ModuleStatus
  setFaultRate(name: string, rate: number): ModuleStatus
  /** Retries the failed messages a selection stands for, taken as the error queue is now. */
  retryFailed(selection: FailedSelection): Promise<RetryResult>
  deleteFailed(keys: readonly string[]): Promise<DeleteResult>
}

/** Failed messages by key, a group of them (by its key), or all of them. */
export type FailedSelection = { ids: readonly string[] } | { group: string } | { all: true }

export function consoleOperations(bus: Bus): ConsoleOperations {
  const { admin } = bus
  const requireModule = (name: string) => {
    if (!admin.moduleNames().includes(name)) throw new NotFoundError('module', name)
    return name
  }
  const onModule = (name: string, act: (name: string) => void) => {
    act(requireModule(name))
    return admin.module(name)
  }
  return {
    stopModule: (name) => onModule(name, (module) => admin.stopModule(module)),
    startModule: (name) => onModule(name, (module) => admin.startModule(module)),
    setFault: (name, on) => onModule(name, (module) => admin.setFault(module, on)),
    setFaultRate: (name, rate) => onModule(name, (module) => admin.setFaultRate(module, rate)),
    retryFailed(selection) {
      // Later failures are not swept in: the selection is the error queue as the person saw it.
      if ('ids' in selection) return admin.retryFailed(selection.ids)
      const failed = admin.failedMessages()
      if ('all' in selection) return admin.retryFailed(failed.map((message) => message.key))
      const group = groupFailures(failed).find((candidate) => candidate.key === selection.group)
      if (!group) throw new InvalidRequestError(`body/group '${selection.group}' matches no group of failed messages`)
      return admin.retryFailed(group.messages.map((message) => message.key))
    },
    deleteFailed: (keys) => admin.deleteFailed(keys),
  }
}
