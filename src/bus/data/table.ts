import { InvalidOptionError } from '../errors.js'
import { checkKey, type TableDefinition } from './define-table.js'
import type { AttemptData, ModuleData, StagedWrites, TableState } from './module-data.js'

export interface ListOptions {
  /** Where the last page ended (its `next`); omitted for the first page. */
  cursor?: string
  /**
   * Documents per page, 1 to 1,000.
   * @default 50
   */
  limit?: number
  /**
   * `oldest`: in the order the keys were first put; `newest`: the reverse. A key keeps its place when its
   * document changes, and takes a new one when it is put again after a delete.
   * @default 'oldest'
   */
  order?: 'oldest' | 'newest'
}

export interface Page<Doc> {
  items: { key: string; doc: Doc }[]
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string
}

/** Reading a table: in a handler (committed data plus the attempt's own writes) and outside one. */
export interface TableReader<Doc> {
  /** The document under `key`, or undefined. */
  get(key: string): Promise<Doc | undefined>
  /** A page of committed documents in a stable order, with a cursor for the next page. */
  list(options?: ListOptions): Promise<Page<Doc>>
  /** How many documents the table holds (committed). */
  count(): number
}

/**
 * A module's table inside a handler. Writes are staged: visible to this attempt's own `get`, committed in
 * the same journal record as the consumed mark and the outgoing messages, dropped if the attempt fails.
 */
export interface Table<Doc> extends TableReader<Doc> {
  /** Stages `doc` under `key`; throws DataInvalidError (no retries: straight to the error queue) when it does not match the table's schema. */
  put(key: string, doc: Doc): void
  /** Stages the deletion of `key` (nothing happens if it holds no document). */
  delete(key: string): void
}

const maxLimit = 1_000

/** Checks list options; returns them resolved. Throws InvalidOptionError naming the option. */
export function resolveListOptions(options: ListOptions | undefined): { cursor: number | undefined; limit: number; order: 'oldest' | 'newest' } {
  const limit = options?.limit ?? 50
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw new InvalidOptionError('list({ limit })', `an integer from 1 to ${maxLimit}`, limit)
  const order = options?.order ?? 'oldest'
  if (order !== 'oldest' && order !== 'newest') throw new InvalidOptionError('list({ order })', "'oldest' or 'newest'", order)
  const raw = options?.cursor
  let cursor: number | undefined
  if (raw !== undefined && raw !== '') {
    if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw new InvalidOptionError('list({ cursor })', "the `next` of an earlier page", raw)
    cursor = Number(raw)
  }
  return { cursor, limit, order }
}

async function listPage(data: ModuleData, state: TableState, options: ListOptions | undefined): Promise<Page<unknown>> {
  const { cursor, limit, order } = resolveListOptions(options)
  const page = await data.page(state, order, cursor, limit)
  const result: Page<unknown> = { items: page.items.map(({ key, doc }) => ({ key, doc })) }
  if (page.next !== undefined) result.next = String(page.next)
  return result
}

/** Read-only access to a table, for code outside handlers (web routes, scripts). */
export function createTableReader<Doc>(data: ModuleData, definition: TableDefinition): TableReader<Doc> {
  const state = data.table(definition)
  return {
    async get(key) {
      checkKey(definition.name, key)
      await data.settled(state, key)
      return (await data.read(state, key)) as Doc | undefined
    },
    list: (options) => listPage(data, state, options) as Promise<Page<Doc>>,
    count: () => state.index.size,
  }
}

/** One handler attempt's tables: what it read (versions) and what it staged. */
export class DataAttempt implements AttemptData {
  readonly observed = new Map<TableState, Map<string, number>>()
  readonly staged = new Map<TableState, StagedWrites>()
  readonly #tables = new Map<TableDefinition, Table<unknown>>()

  constructor(private readonly data: ModuleData) {}

  table<Doc>(definition: TableDefinition): Table<Doc> {
    let table = this.#tables.get(definition)
    if (!table) this.#tables.set(definition, (table = this.#open(definition)))
    return table as Table<Doc>
  }

  #observe(state: TableState, key: string): void {
    let observed = this.observed.get(state)
    if (!observed) this.observed.set(state, (observed = new Map()))
    if (!observed.has(key)) observed.set(key, state.index.version(key))
  }

  #stage(state: TableState): StagedWrites {
    let staged = this.staged.get(state)
    if (!staged) this.staged.set(state, (staged = new Map()))
    return staged
  }

  #open(definition: TableDefinition): Table<unknown> {
    const { data } = this
    const state = data.table(definition)
    return {
      get: async (key) => {
        checkKey(definition.name, key)
        const staged = this.staged.get(state)?.get(key)
        if (staged) return 'deleted' in staged ? undefined : staged.doc
        const observed = this.observed.get(state)?.has(key)
        if (!observed) {
          // A commit of this key on its way to disk: wait, then read what it wrote.
          await data.settled(state, key)
          this.#observe(state, key)
        }
        return data.read(state, key)
      },
      put: (key, doc) => {
        const valid = definition.validate(key, doc)
        this.#observe(state, key)
        this.#stage(state).set(key, { doc: valid })
      },
      delete: (key) => {
        checkKey(definition.name, key)
        this.#observe(state, key)
        this.#stage(state).set(key, { deleted: true })
      },
      list: (options) => listPage(data, state, options),
      count: () => state.index.size,
    }
  }
}
