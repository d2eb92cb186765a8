import type { BodyShape } from './codec';
import { ConfigurationError } from './errors';
import type { ConsumerDefinition } from './metadata';
import type { ConfigurableName, RetryPolicy } from './options';
import type { ExchangeType, FieldTable, QueueSpec, Topology } from './transport';
import { DEFAULT_HANDLER_TIMEOUT_MS, MAX_TIMEOUT_MS } from './handler-timeout';
import { createPayloadValidator, type PayloadValidator, type ValidationSettings } from './validation';

/** The dead-letter exchange Warren declares unless a consumer names another. */
export const DEAD_LETTER_EXCHANGE = 'warren.dead-letter';

/** App-wide defaults a consumer's own options override. */
export interface ConsumerDefaults {
  prefetch: number;
  concurrency: number;
  retry: RetryPolicy;
  validation: ValidationSettings;
  maxBodyBytes: number;
  /** Handler timeout in ms. */
  timeoutMs: number;
  /** Unsettled redeliveries before `REDELIVERY_LIMIT`, or false. */
  redeliveryLimit: number | false;
  /** Declare the topology (true) or only check it passively (false). */
  declare: boolean;
}

/** The defaults `Warren.start()` applies when neither the app nor the consumer sets a value. */
export const DEFAULT_CONSUMER_SETTINGS: Readonly<ConsumerDefaults> = Object.freeze({
  prefetch: 20,
  concurrency: 10,
  retry: { attempts: 1 },
  validation: {},
  maxBodyBytes: 16 * 1024 * 1024,
  timeoutMs: DEFAULT_HANDLER_TIMEOUT_MS,
  redeliveryLimit: 5,
  declare: true,
});

/** A `@Consumer` with every name resolved and every default applied: what the runtime runs and the CLI documents. */
export interface ConsumerPlan {
  /** `Class.method`, used in logs and errors. */
  readonly id: string;
  readonly definition: ConsumerDefinition;
  readonly exchange: string;
  readonly exchangeType: ExchangeType;
  readonly routingKeys: readonly string[];
  readonly queue: string;
  readonly prefetch: number;
  readonly concurrency: number;
  readonly shape: BodyShape;
  /** The payload class, or undefined for Buffer / string / plain-JSON handlers. */
  readonly payloadType?: Function;
  readonly validator?: PayloadValidator<unknown>;
  readonly retry: Required<RetryPolicy>;
  /** Retry queue name for each delay (ms) the policy can produce. */
  readonly retryQueues: ReadonlyMap<number, string>;
  readonly deadLetter: { readonly exchange: string; readonly routingKey: string; readonly queue?: string };
  readonly maxBodyBytes: number;
  readonly scope: 'app' | 'message';
  /** Batch consumption: up to `size` messages or `timeMs` of waiting per handler call. */
  readonly batch?: { readonly size: number; readonly timeMs: number };
  readonly topology: Topology;
  /** A handler call running longer is abandoned with `HANDLER_TIMEOUT`. */
  readonly timeoutMs: number;
  /** Unsettled redeliveries tolerated before `REDELIVERY_LIMIT`; false: no limit. */
  readonly redeliveryLimit: number | false;
  /** False: Warren declares nothing for this consumer and checks its topology passively at start. */
  readonly declare: boolean;
  /** Where messages that came back unsettled wait their turn, one at a time (see redelivery-guard.ts). */
  readonly redeliveredQueue?: string;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Resolves `${NAME}` and `${NAME:-default}` placeholders, or calls a name function. */
export function resolveName(name: ConfigurableName, env: Record<string, string | undefined>, what: string): string {
  const value = typeof name === 'function' ? name() : name.replace(PLACEHOLDER, (_m, variable: string, fallback?: string) => {
    const found = env[variable];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    throw new ConfigurationError(`${what} uses \${${variable}}, but the environment variable ${variable} is not set.`);
  });
  if (typeof value !== 'string') throw new ConfigurationError(`${what} must resolve to a string.`);
  return value;
}

/** The delay before attempt `attempt + 1`, after attempt `attempt` failed. */
export function retryDelay(policy: Required<RetryPolicy>, attempt: number): number {
  if (policy.backoff === 'fixed') return policy.delay;
  return Math.min(policy.delay * 2 ** (attempt - 1), policy.maxDelay);
}

export function planConsumer(definition: ConsumerDefinition, defaults: ConsumerDefaults, env: Record<string, string | undefined>): ConsumerPlan {
  const { options } = definition;
  const id = `${definition.handlerClass.name}.${definition.method}`;
  const exchange = resolveName(definition.exchange, env, `@Consumer exchange of ${id}`);
  const exchangeType = options.exchangeType ?? 'direct';
  const routingKeys = definition.routingKeys.map((k) => resolveName(k, env, `@Consumer routing key of ${id}`));
  const queue = options.queue ? resolveName(options.queue, env, `queue of ${id}`) : `${exchange || 'default'}.${definition.handlerClass.name}.${definition.method}`;
  const batch = options.batch ? { size: options.batch.size, timeMs: options.batch.timeMs ?? 100 } : undefined;
  if (batch && !(Number.isInteger(batch.size) && batch.size >= 1 && batch.timeMs >= 0)) throw new ConfigurationError(`${id}: batch.size must be a whole number ≥ 1 and batch.timeMs ≥ 0.`);
  const prefetch = options.prefetch ?? Math.max(defaults.prefetch, options.concurrency ?? 0, batch?.size ?? 0);
  const concurrency = options.concurrency ?? (batch ? Math.max(batch.size, Math.min(defaults.concurrency, prefetch)) : Math.min(defaults.concurrency, prefetch));
  if (batch && concurrency < batch.size) throw new ConfigurationError(`${id}: concurrency (${concurrency}) must be ≥ batch.size (${batch.size}), so a whole batch can be held while it forms.`);
  if (!(Number.isInteger(prefetch) && prefetch >= 1)) throw new ConfigurationError(`${id}: prefetch must be a whole number ≥ 1 (got ${prefetch}).`);
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new ConfigurationError(`${id}: concurrency must be a whole number ≥ 1 (got ${concurrency}).`);
  if (prefetch < concurrency) {
    throw new ConfigurationError(`${id}: prefetch (${prefetch}) is lower than concurrency (${concurrency}); handlers would sit idle. Set prefetch ≥ concurrency.`);
  }
  if (exchange === '' && exchangeType !== 'direct') throw new ConfigurationError(`${id}: the default exchange "" is a direct exchange.`);

  const { shape, payloadType } = payloadOf(definition, id);
  const retry = normaliseRetry({ ...defaults.retry, ...options.retry }, id);
  const retryQueues = new Map<number, string>();
  for (let attempt = 1; attempt < retry.attempts; attempt++) {
    const delay = retryDelay(retry, attempt);
    retryQueues.set(delay, `${queue}.retry.${delay}`);
  }
  const dl = options.deadLetter ?? {};
  const deadLetter = {
    exchange: dl.exchange ? resolveName(dl.exchange, env, `dead-letter exchange of ${id}`) : DEAD_LETTER_EXCHANGE,
    routingKey: dl.routingKey ? resolveName(dl.routingKey, env, `dead-letter routing key of ${id}`) : queue,
    queue: dl.queue === false ? undefined : dl.queue ? resolveName(dl.queue, env, `dead-letter queue of ${id}`) : `${queue}.dlq`,
  };

  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) throw new ConfigurationError(`${id}: timeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (got ${timeoutMs}).`);
  const redeliveryLimit = options.redeliveryLimit ?? defaults.redeliveryLimit;
  if (redeliveryLimit !== false && !(Number.isInteger(redeliveryLimit) && redeliveryLimit >= 1 && redeliveryLimit <= 1000)) throw new ConfigurationError(`${id}: redeliveryLimit must be a whole number from 1 to 1000, or false (got ${redeliveryLimit}).`);

  const validator = payloadType ? createPayloadValidator(payloadType as new () => unknown, { ...defaults.validation, ...options.validation }) : undefined;

  const topology = topologyOf({ exchange, exchangeType, routingKeys, queue, retryQueues, deadLetter }, definition);
  const ownQueue = topology.queues!.find((q) => q.name === queue)!;
  // Exclusive, auto-delete and transient queues do not outlive their consumer: nothing to guard.
  const guarded = redeliveryLimit !== false && ownQueue.durable !== false && !ownQueue.exclusive && !ownQueue.autoDelete;
  const redeliveredQueue = guarded ? `${queue}.redelivered` : undefined;
  if (redeliveredQueue) topology.queues!.push(redeliveredQueueSpec(redeliveredQueue, ownQueue));

  return {
    id, definition, exchange, exchangeType, routingKeys, queue, prefetch, concurrency, shape, payloadType, validator, retry, retryQueues, deadLetter, redeliveredQueue,
    maxBodyBytes: options.maxBodyBytes ?? defaults.maxBodyBytes,
    scope: options.scope ?? 'app',
    batch, timeoutMs, redeliveryLimit,
    declare: options.declare ?? defaults.declare,
    topology,
  };
}

function payloadOf(definition: ConsumerDefinition, id: string): { shape: BodyShape; payloadType?: Function } {
  const type = definition.options.message ?? definition.parameterTypes[0];
  if (type === Buffer) return { shape: 'bytes' };
  if (type === String) return { shape: 'text' };
  if (definition.options.message === Object) return { shape: 'value' };
  if (typeof type !== 'function' || type === Object || type === Array || type === Number || type === Boolean || type === Promise) {
    throw new ConfigurationError(
      `${id}: cannot tell the payload class of @Consumer ${id}. Type its first parameter with a class (not an interface or \`any\`), ` +
      'or pass { message: MyClass } (or { message: Object } for unvalidated JSON). Is emitDecoratorMetadata on in tsconfig.json?',
    );
  }
  return { shape: 'value', payloadType: type };
}

function normaliseRetry(policy: RetryPolicy, id: string): Required<RetryPolicy> {
  const full: Required<RetryPolicy> = { attempts: policy.attempts ?? 1, delay: policy.delay ?? 1000, backoff: policy.backoff ?? 'fixed', maxDelay: policy.maxDelay ?? 300_000 };
  if (!(Number.isInteger(full.attempts) && full.attempts >= 1 && full.attempts <= 100)) throw new ConfigurationError(`${id}: retry.attempts must be a whole number from 1 to 100 (got ${full.attempts}).`);
  if (!(Number.isInteger(full.delay) && full.delay >= 1)) throw new ConfigurationError(`${id}: retry.delay must be a whole number of milliseconds ≥ 1 (got ${full.delay}).`);
  if (!(full.maxDelay >= full.delay)) throw new ConfigurationError(`${id}: retry.maxDelay must be ≥ retry.delay.`);
  return full;
}

/**
 * A retry queue: messages wait `delay` ms, then expire back to the consumer's queue through the
 * default exchange. Quorum retry queues dead-letter at-least-once (which RabbitMQ allows only with
 * `x-overflow: reject-publish`), so a parked message survives a node failure on its way back.
 */
export function retryQueueSpec(name: string, delay: number, consumerQueue: string, queueType: 'classic' | 'quorum' | undefined): QueueSpec {
  const args: FieldTable = { 'x-message-ttl': delay, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': consumerQueue };
  if (queueType === 'quorum') Object.assign(args, { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' });
  return { name, durable: true, arguments: args };
}

/**
 * The queue where the redelivery guard parks messages that came back unsettled, consumed one at a
 * time: the consumer's queue type and dead-letter route, durable, nothing else (no TTL, no length limit).
 */
export function redeliveredQueueSpec(name: string, consumerQueue: QueueSpec): QueueSpec {
  const own = consumerQueue.arguments ?? {};
  const args: FieldTable = { 'x-dead-letter-exchange': own['x-dead-letter-exchange'], 'x-dead-letter-routing-key': own['x-dead-letter-routing-key'] };
  if (own['x-queue-type'] !== undefined) args['x-queue-type'] = own['x-queue-type'];
  return { name, durable: true, arguments: args };
}

function topologyOf(
  plan: { exchange: string; exchangeType: ExchangeType; routingKeys: readonly string[]; queue: string; retryQueues: ReadonlyMap<number, string>; deadLetter: ConsumerPlan['deadLetter'] },
  definition: ConsumerDefinition,
): Topology {
  const { options } = definition;
  const queueArguments: FieldTable = {
    ...options.queueArguments,
    'x-dead-letter-exchange': plan.deadLetter.exchange,
    'x-dead-letter-routing-key': plan.deadLetter.routingKey,
  };
  if (options.queueType) queueArguments['x-queue-type'] = options.queueType;
  const topology: Required<Topology> = { exchanges: [], queues: [], bindings: [], exchangeBindings: [] };
  if (plan.exchange !== '') {
    topology.exchanges.push({ name: plan.exchange, type: plan.exchangeType, durable: options.exchange?.durable ?? true, autoDelete: options.exchange?.autoDelete ?? false, arguments: options.exchange?.arguments });
  }
  topology.exchanges.push({ name: plan.deadLetter.exchange, type: 'direct', durable: true });
  topology.queues.push({ name: plan.queue, durable: options.durable ?? true, exclusive: options.exclusive ?? false, autoDelete: options.autoDelete ?? false, arguments: queueArguments });
  if (plan.deadLetter.queue) {
    // Dead letters and parked retries follow the consumer's queue type: on a cluster, a classic
    // queue lives on one node, and a message dead-lettered while that node is down would be lost.
    topology.queues.push({ name: plan.deadLetter.queue, durable: true, arguments: options.queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : undefined });
    topology.bindings.push({ exchange: plan.deadLetter.exchange, queue: plan.deadLetter.queue, routingKey: plan.deadLetter.routingKey });
  }
  for (const [delay, name] of plan.retryQueues) topology.queues.push(retryQueueSpec(name, delay, plan.queue, options.queueType));
  if (plan.exchange !== '') {
    if (plan.exchangeType === 'headers') {
      topology.bindings.push({ exchange: plan.exchange, queue: plan.queue, routingKey: '', arguments: { 'x-match': options.match ?? 'all', ...options.headers } });
    } else {
      for (const routingKey of plan.exchangeType === 'fanout' ? [''] : plan.routingKeys) {
        topology.bindings.push({ exchange: plan.exchange, queue: plan.queue, routingKey });
      }
    }
  }
  return topology;
}
