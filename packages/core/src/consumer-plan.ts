import type { BodyShape } from './codec';
import { ConfigurationError } from './errors';
import type { ConsumerDefinition } from './metadata';
import type { ConfigurableName, RetryPolicy } from './options';
import { assertQueueSettings, consumerTopology, type QueueType } from './consumer-topology';
import { delayHopTopology, retryHop, type DelayHop } from './delay-cascade';
import { delayProblem } from './retry-delays';
import type { ExchangeType, Topology } from './transport';
import type { FieldTable, QueueSpec } from './transport';
import { DEFAULT_HANDLER_TIMEOUT_MS, MAX_TIMEOUT_MS } from './handler-timeout';
import { createPayloadValidator, type PayloadValidator, type ValidationSettings } from './validation';
import { parseStreamOffset, type CheckedStreamOffset } from './stream-offset';

/** The dead-letter exchange Warren declares unless a consumer names another. */
export const DEAD_LETTER_EXCHANGE = 'warren.dead-letter';

/** App-wide defaults a consumer's own options override. */
export interface ConsumerDefaults {
  prefetch: number;
  concurrency: number;
  retry: RetryPolicy;
  validation: ValidationSettings;
  maxBodyBytes: number;
  /** The type of every queue Warren declares for a consumer that does not choose one. */
  queueType: QueueType;
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
  queueType: 'classic',
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
  /** The type of the consumer's queue, and of its retry and dead-letter queues. */
  readonly queueType: QueueType;
  readonly prefetch: number;
  readonly concurrency: number;
  readonly shape: BodyShape;
  /** The payload class, or undefined for Buffer / string / plain-JSON handlers. */
  readonly payloadType?: Function;
  readonly validator?: PayloadValidator<unknown>;
  readonly retry: Required<RetryPolicy>;
  /**
   * Where retries end when they are due (`<queue>.retry`), when the policy retries (`attempts` > 1):
   * a retry waits in the delay cascade of the consumer's queue type, whatever its delay, then this
   * hop puts it back on the consumer's queue. One queue per consumer, declared at start.
   */
  readonly retryHop?: DelayHop;
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
  /** A stream consumer's reading settings (`queueType: 'stream'`). */
  readonly stream?: StreamPlan;
  /** The consumer's `x-priority`, if set. */
  readonly priority?: number;
  /** The queue has `x-single-active-consumer`. */
  readonly singleActiveConsumer: boolean;
}

/** How a stream consumer reads: where it starts, and where and how often its offset is stored. */
export interface StreamPlan {
  /** Where it starts when no offset is stored (the `offset` option, default `next`). */
  readonly start: CheckedStreamOffset;
  /** The name its offset is stored under. */
  readonly offsetName: string;
  /** Store the offset after this many processed messages… */
  readonly commitEvery: number;
  /** …or this long after the first one not yet stored. */
  readonly commitIntervalMs: number;
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
  if (!(Number.isInteger(prefetch) && prefetch >= 1)) throw new ConfigurationError(`${id}: prefetch must be a whole number ≥ 1 (got ${prefetch})${options.queueType === 'stream' ? '; RabbitMQ refuses a stream consumer without a prefetch' : ''}.`);
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new ConfigurationError(`${id}: concurrency must be a whole number ≥ 1 (got ${concurrency}).`);
  if (prefetch < concurrency) {
    throw new ConfigurationError(`${id}: prefetch (${prefetch}) is lower than concurrency (${concurrency}); handlers would sit idle. Set prefetch ≥ concurrency.`);
  }
  if (exchange === '' && exchangeType !== 'direct') throw new ConfigurationError(`${id}: the default exchange "" is a direct exchange.`);

  const { shape: bodyShape, payloadType } = payloadOf(definition, id);
  const retry = normaliseRetry({ ...defaults.retry, ...options.retry }, id);
  // An exclusive queue cannot be a quorum queue: it follows the app's default type only when it can.
  const queueType: QueueType = options.queueType ?? (options.exclusive ? 'classic' : defaults.queueType);
  if (queueType !== 'classic' && queueType !== 'quorum' && queueType !== 'stream') throw new ConfigurationError(`${id}: queueType must be 'classic', 'quorum' or 'stream' (got ${JSON.stringify(queueType)}).`);
  const dl = options.deadLetter ?? {};
  const deadLetter = {
    exchange: dl.exchange ? resolveName(dl.exchange, env, `dead-letter exchange of ${id}`) : DEAD_LETTER_EXCHANGE,
    routingKey: dl.routingKey ? resolveName(dl.routingKey, env, `dead-letter routing key of ${id}`) : queue,
    queue: dl.queue === false ? undefined : dl.queue ? resolveName(dl.queue, env, `dead-letter queue of ${id}`) : `${queue}.dlq`,
  };

  const shape = { id, exchange, exchangeType, routingKeys, queue, queueType, deadLetter };
  // A stream retries in process (stream-consumer.ts): it has no retry hop.
  const hop = retry.attempts > 1 && queueType !== 'stream' ? retryHop(queue, queueType) : undefined;
  assertQueueSettings(shape, options, retry.attempts);
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) throw new ConfigurationError(`${id}: timeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (got ${timeoutMs}).`);
  // A stream keeps its messages and resumes from its stored offset: nothing comes back unsettled to count.
  const redeliveryLimit = queueType === 'stream' ? false : options.redeliveryLimit ?? defaults.redeliveryLimit;
  if (redeliveryLimit !== false && !(Number.isInteger(redeliveryLimit) && redeliveryLimit >= 1 && redeliveryLimit <= 1000)) throw new ConfigurationError(`${id}: redeliveryLimit must be a whole number from 1 to 1000, or false (got ${redeliveryLimit}).`);

  const validator = payloadType ? createPayloadValidator(payloadType as new () => unknown, { ...defaults.validation, ...options.validation }) : undefined;

  const topology = consumerTopology(shape, options);
  if (hop) {
    const hopTopology = delayHopTopology(hop);
    topology.exchanges!.push(...hopTopology.exchanges);
    topology.queues!.push(...hopTopology.queues);
    topology.bindings!.push(...hopTopology.bindings);
  }
  const ownQueue = topology.queues!.find((q) => q.name === queue)!;
  // Exclusive, auto-delete and transient queues do not outlive their consumer: nothing to guard.
  const guarded = redeliveryLimit !== false && ownQueue.durable !== false && !ownQueue.exclusive && !ownQueue.autoDelete;
  const redeliveredQueue = guarded ? `${queue}.redelivered` : undefined;
  if (redeliveredQueue) topology.queues!.push(redeliveredQueueSpec(redeliveredQueue, ownQueue));

  return {
    id, definition, exchange, exchangeType, routingKeys, queue, queueType, prefetch, concurrency, shape: bodyShape, payloadType, validator, retry, retryHop: hop, deadLetter,
    maxBodyBytes: options.maxBodyBytes ?? defaults.maxBodyBytes,
    scope: options.scope ?? 'app',
    batch,
    topology,
    timeoutMs, redeliveryLimit, redeliveredQueue,
    declare: options.declare ?? defaults.declare,
    stream: queueType === 'stream' ? planStream(options, id, queue, env) : undefined,
    priority: options.priority,
    singleActiveConsumer: options.singleActiveConsumer === true,
  };
}

function planStream(options: ConsumerDefinition['options'], id: string, queue: string, env: Record<string, string | undefined>): StreamPlan {
  return {
    start: parseStreamOffset(options.offset === undefined ? 'next' : options.offset, `${id}: offset`),
    offsetName: options.offsetName ? resolveName(options.offsetName, env, `offsetName of ${id}`) : `${queue}:${id}`,
    commitEvery: options.offsetCommit?.every ?? 100,
    commitIntervalMs: options.offsetCommit?.intervalMs ?? 1000,
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
  const delay = delayProblem(full.delay);
  if (delay) throw new ConfigurationError(`${id}: retry.delay ${delay}.`);
  const maxDelay = delayProblem(full.maxDelay);
  if (maxDelay) throw new ConfigurationError(`${id}: retry.maxDelay ${maxDelay}.`);
  if (!(full.maxDelay >= full.delay)) throw new ConfigurationError(`${id}: retry.maxDelay must be ≥ retry.delay.`);
  return full;
}

/**
 * The queue where the redelivery guard parks messages that came back unsettled, consumed one at a
 * time: the consumer's queue type and dead-letter route, durable, nothing else (no TTL, no length limit).
 */
export function redeliveredQueueSpec(name: string, consumerQueue: QueueSpec): QueueSpec {
  const own = consumerQueue.arguments ?? {};
  const args: FieldTable = { 'x-dead-letter-exchange': own['x-dead-letter-exchange'], 'x-dead-letter-routing-key': own['x-dead-letter-routing-key'] };
  // The settings a quorum queue needs (at-least-once dead-lettering, its overflow and delivery limit) follow too.
  // So does single active consumer: a parked message must not go to an instance that is not the active one.
  for (const key of ['x-queue-type', 'x-dead-letter-strategy', 'x-overflow', 'x-delivery-limit', 'x-single-active-consumer']) {
    if (own[key] !== undefined) args[key] = own[key];
  }
  return { name, durable: true, arguments: args };
}
