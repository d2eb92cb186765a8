import { WarrenError } from '@warren/core';

/**
 * A transactional consumer got a message without a message id: the inbox has nothing to record, so
 * it cannot promise exactly-once. Permanent: the message is dead-lettered at once with this code in
 * `x-warren-error-code`. Publishers must set `messageId` (Warren routes always do).
 */
export class MissingMessageIdError extends WarrenError {
  constructor(consumer: string) {
    super('INBOX_MISSING_MESSAGE_ID', `${consumer} is a transactional consumer and the message has no message id: publish it with a messageId (Warren routes set one) so the inbox can record it.`, { permanent: true });
  }
}

/** Outbox misuse: a transaction used after it ended, a header that cannot be stored. */
export class OutboxError extends WarrenError {
  constructor(code: 'OUTBOX_TRANSACTION_ENDED' | 'OUTBOX_HEADER', message: string) {
    super(code, message);
  }
}

/** SQLSTATE classes and codes that mean "the database went away or asked us to try again". */
const TRANSIENT_STATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '55P03']);
const TRANSIENT_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when an error says the database is unreachable, restarting, or asked for a retry
 * (serialization failure, deadlock): running the same message again later can succeed.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || TRANSIENT_STATES.has(code) || TRANSIENT_ERRNOS.has(code)) return true;
  }
  // node-postgres reports a dropped socket with plain Errors.
  return /Connection terminated|connection error|Client was closed|not queryable|timeout exceeded when trying to connect/i.test(error.message);
}
