import { InvalidListOptionError } from '../errors.js'
import { checkKey, type TableDefinition } from './define-table.js'
import type { AttemptData, ModuleTables, TableState, TouchedKey } from './module-tables.js'

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
  /** How many documents the table holds (committed). Asynchronous: a database persistence asks the database. */
  count(): Promise<number>
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

/** Checks list options; returns them resolved. Throws InvalidListOptionError naming the option. */
export function resolveListOptions(options: ListOptions | undefined): { cursor: number | undefined; limit: number; order: 'oldest' | 'newest' } {
  const limit = options?.limit ?? 50
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw new InvalidListOptionError('list({ limit })', `an integer from 1 to ${maxLimit}`, limit)
  const order = options?.order ?? 'oldest'
  if (order !== 'oldest' && order !== 'newest') throw new InvalidListOptionError('list({ order })', "'oldest' or 'newest'", order)
  const raw = options?.cursor
  let cursor: number | undefined
  if (raw !== undefined && raw !== '') {
    if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw new InvalidListOptionError('list({ cursor })', "the `next` of an earlier page", raw)
    cursor = Number(raw)
  }
  return { cursor, limit, order }
}

async function listPage(data: ModuleTables, state: TableState, options: ListOptions | undefined): Promise<Page<unknown>> {
  const { cursor, limit, order } = resolveListOptions(options)
  const page = await data.page(state, order, cursor, limit)
  const result: Page<unknown> = { items: page.items.map(({ key, doc }) => ({ key, doc })) }
  if (page.next !== undefined) result.next = String(page.next)
  return result
}

/** Read-only access to a table, for code outside handlers (web routes, scripts). */
export function createTableReader<Doc>(data: ModuleTables, definition: TableDefinition): TableReader<Doc> {
  const state = data.table(definition)
  return {
    async get(key) {
      checkKey(definition.name, key)
      await data.settled(state, key)
      return (await data.read(state, key)) as Doc | undefined
    },
    list: (options) => listPage(data, state, options) as Promise<Page<Doc>>,
    count: () => Promise.resolve(state.index.size),
  }
}

/** One handler attempt's tables: what it read (versions) and what it staged. */
export class DataAttempt implements AttemptData {
  readonly touched = new Map<TableState, Map<string, TouchedKey>>()
  readonly #tables = new Map<TableDefinition, AttemptTable>()

  constructor(private readonly data: ModuleTables) {}

  table<Doc>(definition: TableDefinition): Table<Doc> {
    let table = this.#tables.get(definition)
    if (!table) {
      const state = this.data.table(definition)
      const touched = new Map<string, TouchedKey>()
      this.touched.set(state, touched)
      this.#tables.set(definition, (table = new AttemptTable(this.data, state, touched)))
    }
    return table as Table<Doc>
  }
}

/**
 * One table inside one attempt. A class, not an object of closures: one is made per attempt that uses a
 * table, and tsx names each arrow stored in an object literal with a call (a visible share of a profile).
 */
class AttemptTable implements Table<unknown> {
  constructor(
    private readonly data: ModuleTables,
    private readonly state: TableState,
    private readonly touched: Map<string, TouchedKey>,
  ) {}

  async get(key: string): Promise<unknown> {
    const { data, state, touched } = this
    checkKey(state.definition.name, key)
    const entry = touched.get(key)
    if (entry?.write) return 'deleted' in entry.write ? undefined : entry.write.doc
    if (!entry) {
      // A commit of this key on its way to disk: wait, then note the version of what it wrote.
      await data.settled(state, key)
      if (!touched.has(key)) this.#touch(key)
    }
    return data.read(state, key)
  }

  put(key: string, doc: unknown): void {
    const valid = this.state.definition.validate(key, doc)
    ;(this.touched.get(key) ?? this.#touch(key)).write = { doc: valid }
  }

  delete(key: string): void {
    checkKey(this.state.definition.name, key)
    ;(this.touched.get(key) ?? this.#touch(key)).write = { deleted: true }
  }

  list(options?: ListOptions): Promise<Page<unknown>> {
    return listPage(this.data, this.state, options)
  }

  count(): Promise<number> {
    return Promise.resolve(this.state.index.size)
  }

  #touch(key: string): TouchedKey {
    const entry: TouchedKey = { version: this.state.index.version(key), write: undefined }
    this.touched.set(key, entry)
    return entry
  }
}
