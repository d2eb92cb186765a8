import { TopologyError } from '../../errors';
import type { ExchangeSpec, FieldTable, QueueSpec } from '../../transport';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** What a queue's `x-` arguments ask of it, validated as RabbitMQ validates them on declare. */
export interface QueueSettings {
  messageTtl: number | undefined;
  maxLength: number | undefined;
  maxLengthBytes: number | undefined;
  overflow: Overflow;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  /**
   * A quorum queue with `x-dead-letter-strategy: at-least-once` (and `reject-publish` overflow, which
   * RabbitMQ requires for it) keeps a dead letter until every target queue has taken it.
   */
  atLeastOnceDeadLettering: boolean;
  /** `x-single-active-consumer`: only the consumer attached first receives, until it goes. */
  singleActiveConsumer: boolean;
}

/** The AMQP reply code RabbitMQ would close the channel with, in the error's message. */
export function refused(code: 'PRECONDITION_FAILED' | 'NOT_FOUND' | 'ACCESS_REFUSED' | 'RESOURCE_LOCKED' | 'NOT_IMPLEMENTED', detail: string): TopologyError {
  return new TopologyError(`The in-memory broker refused a declaration (${code}): ${detail}`);
}

/** Queue arguments RabbitMQ compares on redeclaration; any other argument may differ. */
const COMPARED_QUEUE_ARGUMENTS = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length',
  'x-max-length-bytes', 'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-max-priority', 'x-overflow',
  'x-queue-mode', 'x-single-active-consumer', 'x-queue-type', 'x-delivery-limit', 'x-dead-letter-strategy',
  'x-max-age', 'x-stream-max-segment-size-bytes', 'x-initial-cluster-size',
];

/** Arguments RabbitMQ accepts only on quorum queues. */
const QUORUM_ONLY_ARGUMENTS = ['x-delivery-limit', 'x-dead-letter-strategy'];

export function parseQueueArguments(queue: string, args: FieldTable | undefined, flags: { durable: boolean; exclusive: boolean; autoDelete: boolean } = { durable: true, exclusive: false, autoDelete: false }): QueueSettings {
  const a = args ?? {};
  const type = a['x-queue-type'];
  if (type !== undefined && type !== 'classic' && type !== 'quorum') {
    throw refused('PRECONDITION_FAILED', `x-queue-type ${JSON.stringify(type)} of queue "${queue}" is not supported by the in-memory broker (classic, quorum and stream are; streams are declared through parseStreamArguments).`);
  }
  const sac = a['x-single-active-consumer'];
  if (sac !== undefined && typeof sac !== 'boolean') throw refused('PRECONDITION_FAILED', `invalid arg 'x-single-active-consumer' for queue "${queue}": ${JSON.stringify(sac)}; expected true or false.`);
  if (type === 'quorum' && (!flags.durable || flags.exclusive || flags.autoDelete)) {
    throw refused('PRECONDITION_FAILED', `invalid property '${!flags.durable ? 'non-durable' : flags.exclusive ? 'exclusive' : 'auto-delete'}' for queue "${queue}": a quorum queue is durable, not exclusive and not auto-delete.`);
  }
  if (type !== 'quorum') {
    for (const key of QUORUM_ONLY_ARGUMENTS) {
      if (a[key] !== undefined) throw refused('PRECONDITION_FAILED', `invalid arg '${key}' for queue "${queue}" of queue type classic.`);
    }
  }
  const strategy = a['x-dead-letter-strategy'];
  if (strategy !== undefined && strategy !== 'at-most-once' && strategy !== 'at-least-once') {
    throw refused('PRECONDITION_FAILED', `invalid arg 'x-dead-letter-strategy' for queue "${queue}": ${JSON.stringify(strategy)}; expected at-most-once or at-least-once.`);
  }
  optionalInteger(queue, a, 'x-delivery-limit', 0);
  const overflow = a['x-overflow'] ?? 'drop-head';
  if (overflow !== 'drop-head' && overflow !== 'reject-publish' && overflow !== 'reject-publish-dlx') {
    throw refused('PRECONDITION_FAILED', `invalid arg 'x-overflow' for queue "${queue}": ${JSON.stringify(overflow)}; expected drop-head, reject-publish or reject-publish-dlx.`);
  }
  const deadLetterExchange = optionalString(queue, a, 'x-dead-letter-exchange');
  const deadLetterRoutingKey = optionalString(queue, a, 'x-dead-letter-routing-key');
  if (deadLetterRoutingKey !== undefined && deadLetterExchange === undefined) {
    throw refused('PRECONDITION_FAILED', `invalid arg 'x-dead-letter-routing-key' for queue "${queue}": it requires x-dead-letter-exchange.`);
  }
  optionalInteger(queue, a, 'x-expires', 1);
  return {
    messageTtl: optionalInteger(queue, a, 'x-message-ttl', 0),
    maxLength: optionalInteger(queue, a, 'x-max-length', 0),
    maxLengthBytes: optionalInteger(queue, a, 'x-max-length-bytes', 0),
    overflow,
    deadLetterExchange,
    deadLetterRoutingKey,
    // RabbitMQ falls back to at-most-once unless the overflow is reject-publish.
    atLeastOnceDeadLettering: type === 'quorum' && strategy === 'at-least-once' && overflow === 'reject-publish',
    singleActiveConsumer: sac === true,
  };
}

/** What a stream's `x-` arguments ask of it. */
export interface StreamSettings {
  maxLengthBytes: number | undefined;
  maxAgeMs: number | undefined;
  /** `x-stream-max-segment-size-bytes`, RabbitMQ's default 500 MB. */
  segmentBytes: number;
}

/** Queue arguments RabbitMQ refuses on a stream (it takes x-max-length-bytes, x-max-age, x-stream-max-segment-size-bytes, x-initial-cluster-size, x-queue-leader-locator). */
const REFUSED_ON_STREAMS = [
  'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-dead-letter-strategy', 'x-message-ttl', 'x-expires', 'x-max-length',
  'x-overflow', 'x-delivery-limit', 'x-single-active-consumer', 'x-max-priority', 'x-queue-mode', 'x-max-in-memory-length', 'x-max-in-memory-bytes',
];

/** Checks a stream declaration as RabbitMQ does (durable, not exclusive or auto-delete; stream arguments only). */
export function parseStreamArguments(queue: string, args: FieldTable | undefined, flags: { durable: boolean; exclusive: boolean; autoDelete: boolean }): StreamSettings {
  const a = args ?? {};
  if (flags.exclusive) throw refused('PRECONDITION_FAILED', `invalid property 'exclusive-owner' for queue "${queue}": a stream cannot be exclusive.`);
  if (!flags.durable || flags.autoDelete) throw refused('PRECONDITION_FAILED', `invalid property '${!flags.durable ? 'non-durable' : 'auto-delete'}' for queue "${queue}": a stream is durable and not auto-delete.`);
  for (const key of REFUSED_ON_STREAMS) {
    if (a[key] !== undefined) throw refused('PRECONDITION_FAILED', `invalid arg '${key}' for queue "${queue}" of queue type stream.`);
  }
  const maxAge = a['x-max-age'];
  if (maxAge !== undefined && (typeof maxAge !== 'string' || !/^[1-9][0-9]*[YMDhms]$/.test(maxAge))) {
    throw refused('PRECONDITION_FAILED', `invalid arg 'x-max-age' for queue "${queue}": ${JSON.stringify(maxAge)}; expected a string such as "7D", "12h" or "3600s".`);
  }
  return {
    maxLengthBytes: optionalInteger(queue, a, 'x-max-length-bytes', 0),
    maxAgeMs: maxAge === undefined ? undefined : intervalMs(maxAge as string),
    segmentBytes: optionalInteger(queue, a, 'x-stream-max-segment-size-bytes', 1) ?? 500_000_000,
  };
}

function optionalInteger(queue: string, args: FieldTable, key: string, min: number): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw refused('PRECONDITION_FAILED', `invalid arg '${key}' for queue "${queue}": ${JSON.stringify(value)}; expected an integer of at least ${min}.`);
  }
  return value;
}

function optionalString(queue: string, args: FieldTable, key: string): string | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw refused('PRECONDITION_FAILED', `invalid arg '${key}' for queue "${queue}": ${JSON.stringify(value)}; expected a string.`);
  return value;
}

/** What a declared queue is compared on (a MemoryQueue). */
export interface DeclaredQueue {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusive: boolean;
  readonly args: FieldTable | undefined;
}

/** What a declared exchange is compared on (a MemoryExchange). */
export interface DeclaredExchange {
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly alternateExchange: unknown;
}

export function assertEquivalentQueue(existing: DeclaredQueue, spec: QueueSpec): void {
  const what = `queue "${spec.name}"`;
  same(what, 'durable', existing.durable, spec.durable ?? true);
  same(what, 'auto_delete', existing.autoDelete, spec.autoDelete ?? false);
  if (existing.exclusive !== (spec.exclusive ?? false)) {
    throw refused('RESOURCE_LOCKED', `cannot obtain exclusive access to locked ${what}, or redeclare it with another exclusive flag.`);
  }
  for (const key of COMPARED_QUEUE_ARGUMENTS) {
    // RabbitMQ takes a queue declared without a type as classic: stating it later is equivalent.
    if (key === 'x-queue-type') same(what, key, existing.args?.[key] ?? 'classic', spec.arguments?.[key] ?? 'classic');
    else same(what, key, existing.args?.[key], spec.arguments?.[key]);
  }
}

export function assertEquivalentExchange(existing: DeclaredExchange, spec: ExchangeSpec): void {
  const what = `exchange "${spec.name}"`;
  same(what, 'type', existing.type, spec.type);
  same(what, 'durable', existing.durable, spec.durable ?? true);
  same(what, 'auto_delete', existing.autoDelete, spec.autoDelete ?? false);
  same(what, 'internal', existing.internal, spec.internal ?? false);
  // RabbitMQ compares only this one of an exchange's arguments.
  same(what, 'alternate-exchange', existing.alternateExchange, spec.arguments?.['alternate-exchange']);
}

function same(what: string, field: string, current: unknown, received: unknown): void {
  if (current === received) return;
  throw refused('PRECONDITION_FAILED', `inequivalent arg '${field}' for ${what}: received ${describe(received)} but current is ${describe(current)}. Delete it (or use another name) to declare it differently.`);
}

function describe(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

const INTERVAL_UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, D: 86_400_000, M: 30 * 86_400_000, Y: 365 * 86_400_000 };

/** `3600s`, `15m`, `7D`… in ms: the forms RabbitMQ takes for `x-stream-offset` and `x-max-age` (checked before). */
export function intervalMs(text: string): number {
  const match = /^(\d+)([YMDhms])$/.exec(text);
  return match ? Number(match[1]) * INTERVAL_UNIT_MS[match[2]!]! : 0;
}
