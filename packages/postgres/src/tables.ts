import { ConfigurationError } from '@warren/core';

/** Table names of the outbox, inbox and offsets; `schema.table` is allowed. */
export interface TableNames {
  /** Default `warren_outbox`. */
  outboxTable?: string;
  /** Default `warren_inbox`. */
  inboxTable?: string;
  /** Stream consumers' offsets (`PostgresOffsetStore`). Default `warren_offsets`. */
  offsetTable?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,50}(\.[A-Za-z_][A-Za-z0-9_]{0,50})?$/;

/** A table name checked and quoted for SQL: `"schema"."table"`, plus its bare name for index names. */
export interface QuotedTable {
  readonly sql: string;
  readonly bare: string;
}

/**
 * Checks and quotes a configured table name. Names are letters, digits and underscores (with an
 * optional schema): they are spliced into SQL, so anything else is refused at construction.
 */
export function quoteTable(name: string, what: string): QuotedTable {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ConfigurationError(`${what} "${String(name)}" is not a valid table name: use letters, digits and underscores, optionally "schema.table".`);
  }
  const parts = name.split('.');
  return { sql: parts.map(quoteIdent).join('.'), bare: parts[parts.length - 1]! };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The tables of a configuration, with the defaults applied. */
export function resolveTables(names: TableNames = {}): { outbox: QuotedTable; inbox: QuotedTable; offsets: QuotedTable } {
  return {
    outbox: quoteTable(names.outboxTable ?? 'warren_outbox', 'outboxTable'),
    inbox: quoteTable(names.inboxTable ?? 'warren_inbox', 'inboxTable'),
    offsets: quoteTable(names.offsetTable ?? 'warren_offsets', 'offsetTable'),
  };
}
