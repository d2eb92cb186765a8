import { ConfigurationError } from './errors';
import type { ConsumerOptions } from './options';
import { maxAgeArgument } from './stream-offset';
import type { FieldTable, QueueSpec } from './transport';

/**
 * A stream consumer's queue: `x-queue-type: stream`, durable, and only the arguments a stream takes.
 * RabbitMQ refuses a stream with dead-lettering, TTL, length limits, overflow or single active
 * consumer (PRECONDITION_FAILED), so Warren declares none of them and refuses them at start.
 */

/** Queue arguments RabbitMQ refuses on a stream (3.10–4.x), with what to do instead. */
const REFUSED_STREAM_ARGUMENTS: Readonly<Record<string, string>> = {
  'x-dead-letter-exchange': 'a stream cannot dead-letter; Warren publishes failed messages to the consumer\'s dead-letter queue itself',
  'x-dead-letter-routing-key': 'a stream cannot dead-letter',
  'x-dead-letter-strategy': 'a stream cannot dead-letter',
  'x-message-ttl': 'use maxAge for retention',
  'x-expires': 'a stream does not expire',
  'x-max-length': 'use maxLengthBytes or maxAge for retention',
  'x-overflow': 'a stream never refuses a publish',
  'x-delivery-limit': 'a stream does not count deliveries',
  'x-single-active-consumer': 'AMQP 0-9-1 consumers of a stream cannot share one',
  'x-max-priority': 'a stream keeps publish order',
};

/** The names of the consumer options that only mean something on a stream. */
const STREAM_ONLY_OPTIONS = ['offset', 'offsetName', 'offsetCommit', 'maxAge', 'maxLengthBytes', 'streamMaxSegmentSizeBytes'] as const;

export function streamQueueSpec(shape: { id: string; queue: string }, options: ConsumerOptions): QueueSpec {
  const args: FieldTable = { ...options.queueArguments, 'x-queue-type': 'stream' };
  if (options.maxAge !== undefined) args['x-max-age'] = maxAgeArgument(options.maxAge, shape.id);
  if (options.maxLengthBytes !== undefined) args['x-max-length-bytes'] = options.maxLengthBytes;
  if (options.streamMaxSegmentSizeBytes !== undefined) args['x-stream-max-segment-size-bytes'] = options.streamMaxSegmentSizeBytes;
  return { name: shape.queue, durable: true, exclusive: false, autoDelete: false, arguments: args };
}

/** Refuses, at start, what a stream consumer cannot do, naming the option and what to use instead. */
export function assertStreamSettings(id: string, options: ConsumerOptions): void {
  const refuse = (why: string): never => { throw new ConfigurationError(`${id}: ${why}`); };
  if (options.durable === false || options.exclusive || options.autoDelete) refuse('a stream is always durable, never exclusive or auto-delete. Drop durable: false / exclusive / autoDelete, or use another queueType.');
  if (options.batch) refuse('batch consumption is not available on streams: the offset is tracked per message. Drop batch, or use a classic or quorum queue.');
  if (options.singleActiveConsumer) refuse('singleActiveConsumer is not available on streams over AMQP 0-9-1 (RabbitMQ offers it to stream-protocol clients only). Run one instance of this consumer, or use a quorum queue.');
  if (options.priority !== undefined) refuse('consumer priority is not available on streams (RabbitMQ refuses x-priority there): every reader gets every message.');
  if (options.type !== undefined) refuse('a type filter is not available on streams: messages of other types are other readers\' to read, not dead letters. Check ctx.properties.type in the handler and return early.');
  for (const [key, why] of Object.entries(REFUSED_STREAM_ARGUMENTS)) {
    if (options.queueArguments?.[key] !== undefined) refuse(`queue argument ${key} is refused by RabbitMQ on a stream: ${why}.`);
  }
  for (const key of ['maxLengthBytes', 'streamMaxSegmentSizeBytes'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) refuse(`${key} must be a whole number of bytes ≥ 1 (got ${JSON.stringify(value)}).`);
  }
  if (options.maxAge !== undefined) maxAgeArgument(options.maxAge, id);
  const commit = options.offsetCommit;
  if (commit?.every !== undefined && !(Number.isInteger(commit.every) && commit.every >= 1 && commit.every <= 1_000_000)) refuse(`offsetCommit.every must be a whole number from 1 to 1,000,000 (got ${JSON.stringify(commit.every)}).`);
  if (commit?.intervalMs !== undefined && !(Number.isInteger(commit.intervalMs) && commit.intervalMs >= 1 && commit.intervalMs <= 3_600_000)) refuse(`offsetCommit.intervalMs must be a whole number of milliseconds from 1 to 3,600,000 (got ${JSON.stringify(commit.intervalMs)}).`);
}

/** Refuses stream options on a classic or quorum consumer, where they would be silently ignored. */
export function assertNoStreamOptions(id: string, options: ConsumerOptions): void {
  const set = STREAM_ONLY_OPTIONS.filter((key) => options[key] !== undefined);
  if (set.length) throw new ConfigurationError(`${id}: ${set.join(', ')} ${set.length === 1 ? 'is an option' : 'are options'} of stream consumers; set queueType: 'stream', or drop ${set.length === 1 ? 'it' : 'them'} (queueArguments takes x-max-length-bytes for other queue types).`);
}
