/**
 * `@warren/postgres`: exactly-once effects for Warren services on PostgreSQL. A transactional
 * outbox (publish inside your database transaction; a relay sends after commit), a transactional
 * inbox (the handler runs in a transaction that records the message id), and an offset store for
 * stream consumers. See docs/outbox-and-inbox.md and docs/streams.md.
 */
export { Outbox, OutboxTransaction } from './outbox';
export type { OutboxOptions, OutboxSendOptions } from './outbox';
export { ParkedRows } from './parked';
export type { ParkedRow } from './parked';
export { OutboxRelay } from './relay';
export type { RelayOptions } from './relay';
export { transactionalInbox, transactionOf } from './inbox';
export type { TransactionalInboxOptions } from './inbox';
export { pruneInbox, DEFAULT_INBOX_RETENTION_MS } from './inbox-retention';
export type { PruneInboxOptions } from './inbox-retention';
export { PostgresOffsetStore } from './offsets';
export type { PostgresOffsetStoreOptions } from './offsets';
export { applySchema, renderSchema, SCHEMA_FILE } from './schema';
export type { TableNames } from './tables';
export { MissingMessageIdError, OutboxError, isTransientDatabaseError } from './errors';
