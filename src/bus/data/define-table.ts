import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { DataInvalidError, InvalidTableDefinitionError } from '../errors.js'

const tableBrand: unique symbol = Symbol('mailroom.table-definition')

/**
 * A table of a module's own data: documents of one schema, each under a string key. Declared once,
 * listed in its module's `defineModule({ tables })`; handlers reach it with `context.table(Table)`.
 */
export interface TableDefinition<S extends TSchema = TSchema> {
  readonly [tableBrand]: true
  readonly name: string
  readonly schema: S
  /** Throws DataInvalidError naming the first bad field; returns the document typed. */
  readonly validate: (key: string, doc: unknown) => Static<S>
}

export type DocumentOf<T> = T extends TableDefinition<infer S> ? Static<S> : never

const tableNamePattern = /^[a-z][a-z0-9-]{0,62}$/
/** Keys travel in journal records and URLs: printable, and short enough to keep a million in memory. */
export const maxKeyLength = 200

/** `defineTable('orders', Type.Object({ ... }))`: a module's durable table (see defineModule's `tables`). */
export function defineTable<S extends TSchema>(name: string, schema: S): TableDefinition<S> {
  if (typeof name !== 'string' || !tableNamePattern.test(name)) {
    throw new InvalidTableDefinitionError('defineTable(name)', 'a lower-case table name like orders or charges', name)
  }
  return makeTable(name, schema)
}

/** The bus's own tables (the audit): a name starting with `@`, which no module's table can have. */
export function defineInternalTable<S extends TSchema>(name: `@${string}`, schema: S): TableDefinition<S> {
  return makeTable(name, schema)
}

function makeTable<S extends TSchema>(name: string, schema: S): TableDefinition<S> {
  const check: TypeCheck<S> = TypeCompiler.Compile(schema)
  return Object.freeze({
    [tableBrand]: true as const,
    name,
    schema,
    validate(key: string, doc: unknown): Static<S> {
      checkKey(name, key)
      if (check.Check(doc)) return doc
      const first = check.Errors(doc).First()
      throw new DataInvalidError(name, key, first ? `field '${first.path || '(document)'}' ${first.message}` : 'the document does not match the schema')
    },
  })
}

export function checkKey(table: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
    throw new DataInvalidError(table, String(key), `the key must be a string of 1 to ${maxKeyLength} characters`)
  }
}

export function isTableDefinition(value: unknown): value is TableDefinition {
  return typeof value === 'object' && value !== null && tableBrand in value
}
