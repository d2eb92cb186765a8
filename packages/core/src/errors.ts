/**
 * Every error Warren raises is a `WarrenError` with a stable `code` to branch on. Messages say what
 * went wrong and what to do about it; none of them contains a password (URLs are redacted first).
 *
 * Severity, from the caller's side:
 * - permanent message errors (`DecodeError`, `PayloadValidationError`): retrying the same bytes can
 *   never succeed, so the message is dead-lettered at once;
 * - publish-side errors (`UnroutableError`, `PublishTimeoutError`, `PublishError`): the message was
 *   not accepted by the broker and the caller decides whether to try again;
 * - set-up errors (`ConfigurationError`, `TopologyError`, `ConnectionError`): the app cannot start.
 */
export class WarrenError extends Error {
  /** A stable identifier, e.g. `VALIDATION_FAILED`; also written to `x-warren-error-code`. */
  readonly code: string;
  /** True when handling the same message again cannot succeed. */
  readonly permanent: boolean;

  constructor(code: string, message: string, options?: { cause?: unknown; permanent?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.permanent = options?.permanent ?? false;
  }
}

/** Bad options, conflicting handlers, missing payload types: fix the code or configuration. */
export class ConfigurationError extends WarrenError {
  /** `code` is for subclasses that name a more precise problem; every other one is `CONFIGURATION`. */
  constructor(message: string, options?: { cause?: unknown }, code = 'CONFIGURATION') {
    super(code, message, options);
  }
}

/**
 * Several `@Consumer` methods share a queue but disagree on a setting of the queue itself (its
 * type, arguments, prefetch, concurrency, dead-letter route…): one queue can only be declared and
 * consumed one way. `options` names every setting that differs.
 */
export class QueueSettingsConflictError extends ConfigurationError {
  constructor(readonly queue: string, readonly consumers: readonly [string, string], readonly options: readonly string[], details: string) {
    super(
      `Queue "${queue}" is consumed by ${consumers[0]} and ${consumers[1]}, which disagree on ${options.join(', ')} (${details}). ` +
      'Every @Consumer method of one queue must set the queue\'s own settings alike: give them the same options (spread one shared object), or set them once for the queue in `consumers: { "<queue>": { … } }`.',
      undefined, 'QUEUE_SETTINGS_CONFLICT',
    );
  }
}

/**
 * Two `@Consumer` methods of one queue could claim the same delivery with nothing to choose between
 * them: the same `type`, the same routing key, or topic patterns of equal precedence that overlap.
 */
export class DispatchConflictError extends ConfigurationError {
  constructor(readonly queue: string, readonly consumers: readonly [string, string], reason: string) {
    super(`Queue "${queue}": ${consumers[0]} and ${consumers[1]} ${reason}. See "Several message types on one queue" in docs/handlers-and-validation.md.`, undefined, 'DISPATCH_CONFLICT');
  }
}

/** The broker could not be reached or refused the connection (`code` says which). */
export class ConnectionError extends WarrenError {
  constructor(code: 'CONNECTION' | 'ACCESS_REFUSED' | 'CLOSED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A declaration was refused: usually an existing queue or exchange with other arguments. */
export class TopologyError extends WarrenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TOPOLOGY', message, options);
  }
}

/** The body could not be turned into a value: malformed JSON, invalid UTF-8, unknown content type or encoding, too large. */
export class DecodeError extends WarrenError {
  constructor(code: 'DECODE_FAILED' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_CONTENT_TYPE' | 'UNSUPPORTED_CONTENT_ENCODING', message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, permanent: true });
  }
}

/** One failed property of a payload. `path` is dotted, with array indexes: `items.2.qty`. */
export interface ValidationIssue {
  path: string;
  /** Constraint name → message, as class-validator reports them, e.g. `{ min: 'qty must not be less than 1' }`. */
  constraints: Record<string, string>;
}

/** A payload did not satisfy its class's class-validator constraints. */
export class PayloadValidationError extends WarrenError {
  readonly issues: readonly ValidationIssue[];
  readonly target: string;

  constructor(target: string, issues: ValidationIssue[]) {
    super('VALIDATION_FAILED', `${target} failed validation: ${summarizeIssues(issues)}`, { permanent: true });
    this.target = target;
    this.issues = issues;
  }
}

/** A short, one-line summary of validation issues, also used in the `x-warren-error-details` header. */
export function summarizeIssues(issues: readonly ValidationIssue[], limit = 10): string {
  const parts = issues.slice(0, limit).map((i) => `${i.path || '(root)'}: ${Object.values(i.constraints).join('; ')}`);
  if (issues.length > limit) parts.push(`… and ${issues.length - limit} more`);
  return parts.join(' | ');
}

/**
 * No `@Consumer` method of the queue handles the delivery: its `type` property names none of the
 * methods' types and its routing key matches none of their keys. Dead-lettered at once (the same
 * bytes can never find a handler). `routingKey` and `type` are what the publisher sent: untrusted.
 */
export class NoHandlerError extends WarrenError {
  constructor(readonly queue: string, readonly routingKey: string, readonly type: string | undefined) {
    super('NO_HANDLER', `No @Consumer method of queue "${queue}" handles this message (routing key ${quoted(routingKey)}${type === undefined ? ', no type' : `, type ${quoted(type)}`}). Add a method for it, or stop routing it to this queue.`, { permanent: true });
  }
}

/** Untrusted text in a message: quoted and escaped (no control characters reach a log line), at most 300 characters. */
function quoted(text: string): string {
  const json = JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
  return json.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A mandatory publish found no queue bound for its exchange and routing key. */
export class UnroutableError extends WarrenError {
  constructor(readonly exchange: string, readonly routingKey: string) {
    super('UNROUTABLE', `No queue is bound to exchange "${exchange}" for routing key "${routingKey}"; the message was returned by the broker. Start a consumer for it, or mark the route { mandatory: false } if it may go unheard.`);
  }
}

/** The broker did not confirm a publish in time (connection blocked by an alarm, or lost). */
export class PublishTimeoutError extends WarrenError {
  constructor(readonly exchange: string, readonly routingKey: string, readonly timeoutMs: number) {
    super('PUBLISH_TIMEOUT', `No confirm from the broker within ${timeoutMs} ms for a message to exchange "${exchange}" with routing key "${routingKey}". The broker may be blocked by a resource alarm or unreachable; the message may or may not have been taken.`);
  }
}

/** The broker refused a publish (nack, closed channel, missing exchange). */
export class PublishError extends WarrenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PUBLISH_FAILED', message, options);
  }
}

/** No reply to a request arrived in time. */
export class RequestTimeoutError extends WarrenError {
  constructor(readonly exchange: string, readonly routingKey: string, readonly timeoutMs: number) {
    super('REQUEST_TIMEOUT', `No reply within ${timeoutMs} ms to a request sent to exchange "${exchange}" with routing key "${routingKey}". Is a consumer running for it?`);
  }
}

/** The remote handler of a request failed; `remoteCode` is the code it reported. */
export class RemoteError extends WarrenError {
  constructor(readonly remoteCode: string, message: string) {
    super('REMOTE_ERROR', message);
  }
}

/** Wraps a non-Warren error thrown by a handler, so it can be reported with a code. */
export class HandlerError extends WarrenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HANDLER_FAILED', message, options);
  }
}

/**
 * A stream offset Warren cannot use: a consumer's `offset` option that is not one of the accepted
 * forms (refused at start), or a delivery from a stream whose `x-stream-offset` header is missing or
 * not a whole number ≥ 0 (dead-lettered: its place in the stream is unknown, so it cannot be tracked).
 */
export class InvalidStreamOffsetError extends WarrenError {
  constructor(message: string) {
    super('INVALID_STREAM_OFFSET', message, { permanent: true });
  }
}

/**
 * A delay Warren cannot schedule: a `retryLater(ms)` delay that is not a whole number of ms from 1 to
 * the maximum, or a delayed send's `delay` / `at` (see docs/scheduling.md). `problem` says which.
 */
export class InvalidDelayError extends WarrenError {
  constructor(readonly given: string, readonly maxMs: number, problem?: string) {
    super('INVALID_DELAY', problem ?? `A retry delay must be a whole number of milliseconds from 1 to ${maxMs}; got ${given}. Round it, or use a scheduler for longer waits.`);
  }
}

/** A handler asked to `requeue()` one message more often than Warren allows; it is dead-lettered instead. */
export class RequeueLimitError extends WarrenError {
  constructor(readonly requeues: number, lastReason: string) {
    super('REQUEUE_LIMIT', `The handler requeued this message ${requeues} times, the most Warren allows; it was dead-lettered so it cannot loop (last reason: ${lastReason}). Use retryLater(ms) for conditions that take time to clear.`, { permanent: true });
  }
}

/**
 * A handler ran past its consumer's `timeoutMs`. Its `ctx.signal` was aborted with this error and
 * the message was settled as a failure (retried, then dead-lettered); whatever the handler does
 * afterwards is ignored. Pass `ctx.signal` to fetch, database drivers and timers so it stops too.
 */
export class HandlerTimeoutError extends WarrenError {
  constructor(readonly consumer: string, readonly timeoutMs: number) {
    super('HANDLER_TIMEOUT', `${consumer} did not finish within its timeout of ${timeoutMs} ms; the message was settled as a failure. Make the handler honour ctx.signal, or raise the consumer's timeoutMs.`);
  }
}

/**
 * A message came back more times than the consumer's `redeliveryLimit` without Warren ever
 * settling it: each time the process holding it died (a crash, an out-of-memory kill, a
 * `process.exit` in a handler). It is dead-lettered unread so it cannot take the service down again.
 */
export class RedeliveryLimitError extends WarrenError {
  constructor(readonly consumer: string, readonly redeliveries: number, readonly limit: number) {
    super('REDELIVERY_LIMIT', `${consumer}: the message was delivered ${redeliveries + 1} times without ever being settled (limit ${limit} redeliveries); each time the process holding it stopped. It was dead-lettered without running the handler again: inspect it before replaying it.`, { permanent: true });
  }
}
