import type { AppTopologyPlan, ConsumerPlan, ExchangeSpec, ExchangeType, PublisherPlan, QueueSpec } from '@warren/core';
import { ConfigurationError, groupConsumers, stripUserinfo } from '@warren/core';
import { PayloadSchemas, type ClassMetadataSources, type JsonSchema } from './json-schema';

/** What an AsyncAPI document is generated from. */
export interface AsyncApiSource {
  title: string;
  version: string;
  description?: string;
  consumers: readonly ConsumerPlan[];
  publishers: readonly PublisherPlan[];
  /** Exchange-to-exchange bindings the service declares (`x-warren-exchange-bindings` at the root). */
  topology?: AppTopologyPlan;
  metadata: ClassMetadataSources;
  /** Broker URL(s), comma-separated or a list; passwords never reach the document. */
  url?: string | readonly string[];
}

/** An AsyncAPI 3.0.0 document as a plain object, ready for YAML or JSON. */
export type AsyncApiDocument = {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description?: string };
  defaultContentType: string;
  servers?: Record<string, JsonSchema>;
  channels: Record<string, JsonSchema>;
  operations: Record<string, JsonSchema>;
  components: { messages: Record<string, JsonSchema>; schemas: Record<string, JsonSchema> };
  'x-warren-exchange-bindings'?: JsonSchema[];
};

const BINDING_VERSION = '0.3.0';

/**
 * Builds an AsyncAPI 3.0.0 document from a service's consumer and publisher plans:
 * a `routingKey` channel per exchange + routing key that publishers send to, a `queue` channel per
 * consumer queue (its exchange bindings in `x-warren-bindings`; one channel with several messages
 * when several methods share the queue), one operation per `@Consumer` method (receive, with how
 * the queue dispatches to it in `x-warren-dispatch`) and per publisher route (send, with a reply for
 * request routes), message payloads as JSON Schema from the class-validator metadata (an AMQP
 * `type` property as the message's `messageType` binding), and the exchange-to-exchange bindings
 * in `x-warren-exchange-bindings` at the root.
 *
 * @example
 * ```ts
 * const service = loadService(['dist/src/handlers.js']);
 * const doc = buildAsyncApi({ title: 'orders', version: '1.0.0', ...service, url: process.env.AMQP_URL });
 * writeFileSync('asyncapi.yaml', stringify(doc));
 * ```
 */
export function buildAsyncApi(source: AsyncApiSource): AsyncApiDocument {
  const schemas = new PayloadSchemas(source.metadata);
  const messages = new MessageCatalog(schemas);
  const servers = source.url ? serversFor(source.url) : undefined;
  const vhost = servers?.vhost ?? '/';
  const channels: Record<string, JsonSchema> = {};
  const operations: Record<string, JsonSchema> = {};

  for (const plan of source.publishers) {
    for (const { property, route } of plan.routes) {
      const channelId = uniqueKey(channels, sendChannelId(plan.exchange.name, route.routingKey), (existing) => existing['x-warren-exchange'] === plan.exchange.name && existing.address === route.routingKey);
      const channel = channels[channelId] ??= {
        address: route.routingKey,
        title: `${plan.exchange.name || '(default exchange)'} / ${route.routingKey}`,
        messages: {},
        bindings: { amqp: { is: 'routingKey', exchange: exchangeBinding(plan.exchange, vhost), bindingVersion: BINDING_VERSION } },
        'x-warren-exchange': plan.exchange.name,
      };
      const messageKey = messages.add(route.type, route.options.type);
      (channel.messages as Record<string, JsonSchema>)[messageKey] = { $ref: `#/components/messages/${messageKey}` };
      const operationId = uniqueKey(operations, safeKey(`${plan.publisherClass.name}.${property}`));
      const operation: JsonSchema = {
        action: 'send',
        title: `${plan.publisherClass.name}.${property}`,
        channel: { $ref: `#/channels/${channelId}` },
        messages: [{ $ref: `#/channels/${channelId}/messages/${messageKey}` }],
        bindings: {
          amqp: {
            deliveryMode: route.options.persistent === false ? 1 : 2,
            mandatory: route.options.mandatory ?? plan.mandatory,
            timestamp: true,
            bindingVersion: BINDING_VERSION,
          },
        },
      };
      if (route.options.reply) {
        const replyChannelId = uniqueKey(channels, safeKey(`${operationId}.reply`));
        const replyKey = messages.add(route.options.reply);
        channels[replyChannelId] = {
          address: null,
          title: `Reply to ${operationId} (RabbitMQ direct reply-to)`,
          messages: { [replyKey]: { $ref: `#/components/messages/${replyKey}` } },
        };
        operation.reply = {
          address: { location: '$message.header#/replyTo', description: 'The request\'s reply_to property (direct reply-to).' },
          channel: { $ref: `#/channels/${replyChannelId}` },
          messages: [{ $ref: `#/channels/${replyChannelId}/messages/${replyKey}` }],
        };
      }
      operations[operationId] = operation;
    }
  }

  for (const group of groupConsumers(source.consumers)) {
    const lead = group.consumers[0]!;
    const queue = lead.topology.queues?.find((q) => q.name === group.queue);
    const channelId = uniqueKey(channels, safeKey(`queue.${group.queue}`));
    const channelMessages: Record<string, JsonSchema> = {};
    channels[channelId] = {
      address: group.queue,
      title: `Queue ${group.queue}`,
      messages: channelMessages,
      bindings: { amqp: { is: 'queue', queue: queueBinding(queue ?? { name: group.queue }, vhost), bindingVersion: BINDING_VERSION } },
      'x-warren-bindings': uniqueBindings(group.consumers.flatMap(bindingsOf)),
      'x-warren-queue': queueExtension(queue ?? { name: group.queue }),
    };
    for (const plan of group.consumers) {
      const messageKey = messages.add(consumerPayload(plan), plan.definition.options.type);
      channelMessages[messageKey] = { $ref: `#/components/messages/${messageKey}` };
      const operation: JsonSchema = {
        action: 'receive',
        title: plan.id,
        channel: { $ref: `#/channels/${channelId}` },
        messages: [{ $ref: `#/channels/${channelId}/messages/${messageKey}` }],
        bindings: { amqp: { ack: true, bindingVersion: BINDING_VERSION } },
        // Retries wait in the delay cascade of the queue's type, then come back through the retry hop.
        'x-warren-retry': { attempts: plan.retry.attempts, delay: plan.retry.delay, backoff: plan.retry.backoff, ...(plan.retryHop ? { cascade: `warren.delay.${plan.retryHop.queueType}`, hop: plan.retryHop.name } : {}) },
        'x-warren-dead-letter': { ...plan.deadLetter },
        ...consumerExtension(plan),
      };
      if (group.dispatch) {
        const type = plan.definition.options.type;
        operation['x-warren-dispatch'] = type === undefined ? { routingKeys: [...new Set(plan.routingKeys)] } : { type };
      }
      operations[uniqueKey(operations, safeKey(plan.id))] = operation;
    }
  }

  const document: AsyncApiDocument = {
    asyncapi: '3.0.0',
    info: { title: source.title, version: source.version, ...(source.description ? { description: source.description } : {}) },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages: messages.definitions, schemas: schemas.definitions },
  };
  if (servers) document.servers = servers.servers;
  const exchangeBindings = source.topology?.bindings ?? [];
  if (exchangeBindings.length) {
    document['x-warren-exchange-bindings'] = exchangeBindings.map((b) => ({ source: b.source, destination: b.destination, routingKey: b.routingKey, ...(b.arguments ? { arguments: b.arguments } : {}), declaredBy: b.declaredBy }));
  }
  return document;
}

/** Message components by payload type: one per class, and one each for bytes, text and untyped JSON. */
class MessageCatalog {
  readonly definitions: Record<string, JsonSchema> = {};
  private readonly keys = new Map<unknown, Map<string | undefined, string>>();

  constructor(private readonly schemas: PayloadSchemas) {}

  /** The component for a payload type, and for an AMQP `type` property (one component per pair). */
  add(type: unknown, messageType?: string): string {
    const byMessageType = this.keys.get(type) ?? new Map<string | undefined, string>();
    this.keys.set(type, byMessageType);
    const known = byMessageType.get(messageType);
    if (known) return known;
    const { name, contentType } = type === Buffer ? { name: 'Bytes', contentType: 'application/octet-stream' }
      : type === String ? { name: 'Text', contentType: 'text/plain' }
        : typeof type === 'function' && type !== Object ? { name: (type as Function).name, contentType: 'application/json' }
          : { name: 'Json', contentType: 'application/json' };
    const key = uniqueKey(this.definitions, safeKey(messageType === undefined || messageType === name ? name : `${name}.${messageType}`));
    byMessageType.set(messageType, key);
    this.definitions[key] = { name: key, title: name, contentType, payload: this.schemas.schemaFor(type) };
    if (messageType !== undefined) this.definitions[key]!.bindings = { amqp: { messageType, bindingVersion: BINDING_VERSION } };
    return key;
  }
}

function consumerPayload(plan: ConsumerPlan): unknown {
  if (plan.shape === 'bytes') return Buffer;
  if (plan.shape === 'text') return String;
  return plan.payloadType ?? Object;
}

function bindingsOf(plan: ConsumerPlan): JsonSchema[] {
  return (plan.topology.bindings ?? [])
    .filter((b) => b.queue === plan.queue)
    .map((b) => (plan.exchangeType === 'headers' ? { exchange: b.exchange, type: plan.exchangeType, headers: b.arguments } : { exchange: b.exchange, type: plan.exchangeType, routingKey: b.routingKey }));
}

/** Each binding once (methods of one queue may bind the same key). */
function uniqueBindings(bindings: JsonSchema[]): JsonSchema[] {
  const seen = new Set<string>();
  return bindings.filter((b) => {
    const key = JSON.stringify(b);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function exchangeBinding(exchange: ExchangeSpec, vhost: string): JsonSchema {
  const type: ExchangeType | 'default' = exchange.name === '' ? 'default' : exchange.type;
  return { name: exchange.name, type, durable: exchange.durable ?? true, autoDelete: exchange.autoDelete ?? false, vhost };
}

function queueBinding(queue: QueueSpec, vhost: string): JsonSchema {
  return { name: queue.name, durable: queue.durable ?? true, exclusive: queue.exclusive ?? false, autoDelete: queue.autoDelete ?? false, vhost };
}

/**
 * What AMQP's queue binding has no field for: the queue type (`x-queue-type`: classic, quorum or
 * stream), single active consumer, and a stream's retention, as the queue is declared.
 */
function queueExtension(queue: QueueSpec): JsonSchema {
  const args = queue.arguments ?? {};
  const extension: JsonSchema = { type: args['x-queue-type'] ?? 'classic' };
  if (args['x-single-active-consumer'] === true) extension.singleActiveConsumer = true;
  const retention = { maxAge: args['x-max-age'], maxLengthBytes: args['x-max-length-bytes'], maxSegmentSizeBytes: args['x-stream-max-segment-size-bytes'] };
  if (Object.values(retention).some((v) => v !== undefined)) extension.retention = JSON.parse(JSON.stringify(retention)) as JsonSchema;
  return extension;
}

/** A receive operation's consumer priority, and a stream consumer's start offset and offset name. */
function consumerExtension(plan: ConsumerPlan): JsonSchema {
  const consumer: JsonSchema = {};
  if (plan.priority !== undefined) consumer.priority = plan.priority;
  if (plan.stream) {
    const start = plan.stream.start;
    consumer.offset = start.kind === 'offset' ? start.offset : start.kind === 'since' ? `${start.seconds}s` : start.kind === 'at' ? new Date(start.at).toISOString() : start.kind;
    consumer.offsetName = plan.stream.offsetName;
    consumer.offsetCommit = { every: plan.stream.commitEvery, intervalMs: plan.stream.commitIntervalMs };
  }
  return Object.keys(consumer).length ? { 'x-warren-consumer': consumer } : {};
}

function sendChannelId(exchange: string, routingKey: string): string {
  return safeKey(`${exchange || 'default'}.${routingKey}`);
}

/** Map keys that are safe in JSON pointers and as AsyncAPI component names. */
function safeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}

/** `key`, or `key_2`, `key_3`… when it is taken by something else (`same` tells an entry to share). */
function uniqueKey(map: Record<string, JsonSchema>, key: string, same?: (existing: JsonSchema) => boolean): string {
  let candidate = key;
  for (let n = 2; candidate in map && !(same?.(map[candidate]!) ?? false); n++) candidate = `${key}_${n}`;
  return candidate;
}

/** One server per broker host; the vhost is the URL's path. */
function serversFor(url: string | readonly string[]): { servers: Record<string, JsonSchema>; vhost: string } {
  const list = (typeof url === 'string' ? url.split(',') : [...url]).map((u) => u.trim()).filter(Boolean);
  const servers: Record<string, JsonSchema> = {};
  let vhost = '/';
  list.forEach((raw, i) => {
    // The userinfo (everything up to the last `@`) never reaches the parser or the document: a
    // password may hold `@ / # ?` unencoded, which `new URL()` would misread.
    const location = stripUserinfo(raw);
    let parsed: URL;
    try {
      parsed = new URL(location);
      vhost = decodeURIComponent(parsed.pathname.slice(1)) || '/';
    } catch {
      throw new ConfigurationError('Invalid broker URL (not shown: it may contain a password): expected amqp://user:password@host:5672/vhost or amqps://….');
    }
    if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') throw new ConfigurationError(`Unsupported broker URL scheme "${parsed.protocol}": use amqp:// or amqps://.`);
    const protocol = parsed.protocol.slice(0, -1);
    servers[list.length === 1 ? 'rabbitmq' : `rabbitmq-${i + 1}`] = {
      host: `${parsed.hostname}:${parsed.port || (protocol === 'amqps' ? 5671 : 5672)}`,
      pathname: `/${encodeURIComponent(vhost)}`,
      protocol,
      protocolVersion: '0.9.1',
      description: `RabbitMQ at ${location.replace(/\?.*$/, '')}`,
    };
  });
  return { servers, vhost };
}
