import { ConfigurationError } from './errors';
import type { ConsumerOptions } from './options';
import { assertNoStreamOptions, assertStreamSettings, streamQueueSpec } from './stream-topology';
import type { ExchangeType, FieldTable, QueueSpec, Topology } from './transport';

/** The queue types Warren declares. Every queue states its type, so a broker's default never picks it. */
export type QueueType = 'classic' | 'quorum' | 'stream';

/**
 * The `x-delivery-limit` of a quorum consumer queue: after this many deliveries that were never
 * settled (a crash, a lost channel) the broker dead-letters the message to the queue's
 * `x-dead-letter-exchange` (reason `delivery_limit`). RabbitMQ 4.0's own default is 20 and 3.x has
 * none; Warren sets it explicitly so every version behaves alike. `requeue()` does not count
 * towards it: Warren counts requeues itself (`MAX_REQUEUES`).
 */
export const QUORUM_DELIVERY_LIMIT = 20;

/**
 * The `x-delivery-limit` of a quorum dead-letter queue. Listing a DLQ takes its messages and gives
 * them back (basic.get, then nack with requeue), and a DLQ has no dead-letter exchange of its own:
 * with RabbitMQ 4.0's default of 20, the 21st `warren dlq list` would silently drop every message.
 */
export const DEAD_LETTER_QUEUE_DELIVERY_LIMIT = 1_000_000;

/** What the topology of one consumer is built from. */
export interface ConsumerShape {
  id: string;
  exchange: string;
  exchangeType: ExchangeType;
  routingKeys: readonly string[];
  queue: string;
  queueType: QueueType;
  deadLetter: { readonly exchange: string; readonly routingKey: string; readonly queue?: string };
}

/**
 * Refuses, at start, consumer settings RabbitMQ would refuse later or that would lose messages:
 * - transient non-exclusive queues (deprecated in RabbitMQ 4.x and refused by managed brokers);
 * - quorum queues that are transient, exclusive or auto-delete (RabbitMQ refuses them);
 * - a quorum queue whose overflow or dead-letter strategy would make dead-lettering at-most-once;
 * - a classic queue that refuses publishes when full, with retries: the classic retry hop
 *   (`<queue>.retry`) dead-letters at-most-once, so a retry coming back to a full queue would be dropped.
 */
export function assertQueueSettings(shape: ConsumerShape, options: ConsumerOptions, retryAttempts: number): void {
  const { id, queueType } = shape;
  const args = options.queueArguments ?? {};
  const durable = options.durable ?? true;
  if (queueType === 'stream') return assertStreamSettings(id, options);
  assertNoStreamOptions(id, options);
  assertDeliveryOptions(id, options);
  if (!durable && !options.exclusive) {
    throw new ConfigurationError(`${id}: durable: false needs exclusive: true. RabbitMQ 4.x deprecates transient queues that are not exclusive (managed brokers refuse them), so Warren declares a transient queue only as an exclusive one, which lives as long as this app's connection. Set exclusive: true for a per-instance queue, or drop durable: false.`);
  }
  if (queueType === 'quorum') {
    if (!durable || options.exclusive || options.autoDelete) {
      throw new ConfigurationError(`${id}: a quorum queue is always durable, never exclusive or auto-delete. Drop durable: false / exclusive / autoDelete, or use queueType: 'classic'.`);
    }
    if (args['x-overflow'] !== undefined && args['x-overflow'] !== 'reject-publish') {
      throw new ConfigurationError(`${id}: a quorum consumer queue uses x-overflow: reject-publish (got ${JSON.stringify(args['x-overflow'])}): RabbitMQ dead-letters at-least-once only with it, and Warren relies on that so no dead letter is dropped.`);
    }
    if (args['x-dead-letter-strategy'] !== undefined && args['x-dead-letter-strategy'] !== 'at-least-once') {
      throw new ConfigurationError(`${id}: a quorum consumer queue dead-letters at-least-once (got x-dead-letter-strategy ${JSON.stringify(args['x-dead-letter-strategy'])}).`);
    }
    const limit = args['x-delivery-limit'];
    if (limit !== undefined && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1)) {
      throw new ConfigurationError(`${id}: x-delivery-limit must be a whole number ≥ 1 (got ${JSON.stringify(limit)}); Warren's default is ${QUORUM_DELIVERY_LIMIT}.`);
    }
    return;
  }
  for (const key of ['x-delivery-limit', 'x-dead-letter-strategy']) {
    if (args[key] !== undefined) throw new ConfigurationError(`${id}: ${key} is a quorum-queue argument; RabbitMQ refuses it on a classic queue. Set queueType: 'quorum', or drop it.`);
  }
  const overflow = args['x-overflow'];
  if ((overflow === 'reject-publish' || overflow === 'reject-publish-dlx') && retryAttempts > 1) {
    throw new ConfigurationError(`${id}: a classic queue with x-overflow: ${overflow} cannot take back a delayed retry when it is full: its classic retry hop (<queue>.retry) dead-letters at-most-once, so the retry would be ${overflow === 'reject-publish' ? 'dropped' : 'dead-lettered without its reason'}. Use queueType: 'quorum' (its retry hop dead-letters at-least-once), or retry.attempts: 1.`);
  }
}

/**
 * A dead-letter queue: the consumer's queue type, so on a cluster it is replicated when the
 * consumer's queue is; a stream's is a quorum queue (dead letters are inspected, replayed and
 * removed one by one, which a stream cannot do).
 */
export function deadLetterQueueSpec(name: string, queueType: QueueType): QueueSpec {
  const type = queueType === 'stream' ? 'quorum' : queueType;
  const args: FieldTable = { 'x-queue-type': type };
  if (type === 'quorum') args['x-delivery-limit'] = DEAD_LETTER_QUEUE_DELIVERY_LIMIT;
  return { name, durable: true, arguments: args };
}

/** The consumer's own queue, with its dead-letter exchange from the start (adding it later makes RabbitMQ refuse the queue). */
export function consumerQueueSpec(shape: ConsumerShape, options: ConsumerOptions): QueueSpec {
  if (shape.queueType === 'stream') return streamQueueSpec(shape, options);
  const args: FieldTable = {
    ...options.queueArguments,
    'x-queue-type': shape.queueType,
    'x-dead-letter-exchange': shape.deadLetter.exchange,
    'x-dead-letter-routing-key': shape.deadLetter.routingKey,
  };
  if (shape.queueType === 'quorum') {
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
    args['x-delivery-limit'] ??= QUORUM_DELIVERY_LIMIT;
  }
  if (options.singleActiveConsumer) args['x-single-active-consumer'] = true;
  return { name: shape.queue, durable: options.durable ?? true, exclusive: options.exclusive ?? false, autoDelete: options.autoDelete ?? false, arguments: args };
}

/** Every exchange, queue and binding one consumer needs, in declaration order. */
export function consumerTopology(shape: ConsumerShape, options: ConsumerOptions): Topology {
  const topology: Required<Topology> = { exchanges: [], queues: [], bindings: [], exchangeBindings: [] };
  if (shape.exchange !== '') {
    topology.exchanges.push({ name: shape.exchange, type: shape.exchangeType, durable: options.exchange?.durable ?? true, autoDelete: options.exchange?.autoDelete ?? false, arguments: options.exchange?.arguments });
  }
  topology.exchanges.push({ name: shape.deadLetter.exchange, type: 'direct', durable: true });
  topology.queues.push(consumerQueueSpec(shape, options));
  if (shape.deadLetter.queue) {
    topology.queues.push(deadLetterQueueSpec(shape.deadLetter.queue, shape.queueType));
    topology.bindings.push({ exchange: shape.deadLetter.exchange, queue: shape.deadLetter.queue, routingKey: shape.deadLetter.routingKey });
  }
  if (shape.exchange !== '') {
    if (shape.exchangeType === 'headers') {
      topology.bindings.push({ exchange: shape.exchange, queue: shape.queue, routingKey: '', arguments: { 'x-match': options.match ?? 'all', ...options.headers } });
    } else {
      for (const routingKey of shape.exchangeType === 'fanout' ? [''] : shape.routingKeys) {
        topology.bindings.push({ exchange: shape.exchange, queue: shape.queue, routingKey });
      }
    }
  }
  return topology;
}

/** `singleActiveConsumer` and `priority`, checked for classic and quorum queues. */
function assertDeliveryOptions(id: string, options: ConsumerOptions): void {
  if (options.singleActiveConsumer !== undefined && typeof options.singleActiveConsumer !== 'boolean') {
    throw new ConfigurationError(`${id}: singleActiveConsumer must be true or false (got ${JSON.stringify(options.singleActiveConsumer)}).`);
  }
  if (options.singleActiveConsumer && options.exclusive) {
    throw new ConfigurationError(`${id}: singleActiveConsumer has no use on an exclusive queue (only its own connection can consume it); drop one of them.`);
  }
  const priority = options.priority;
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= -CONSUMER_PRIORITY_LIMIT && priority <= CONSUMER_PRIORITY_LIMIT)) {
    throw new ConfigurationError(`${id}: priority must be a whole number from ${-CONSUMER_PRIORITY_LIMIT} to ${CONSUMER_PRIORITY_LIMIT} (got ${JSON.stringify(priority)}); consumers without one have priority 0.`);
  }
}

/** Consumer priorities Warren accepts (RabbitMQ takes any signed 32-bit integer; a handful of levels is what anyone uses). */
export const CONSUMER_PRIORITY_LIMIT = 1_000_000;
