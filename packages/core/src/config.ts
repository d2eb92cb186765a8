import { readFileSync } from 'node:fs';
import { ConfigurationError } from './errors';
import { MAX_PREFETCH, MAX_TIMEOUT_MS } from './limits';
import type { TlsOptions } from './transports/amqp/url';
import type { ConsumerOptions, RetryPolicy } from './options';
import { MAX_RETRY_DELAY_MS } from './retry-delays';

/**
 * The part of Warren's configuration that can come from the environment or a config file, checked
 * as a whole: a bad value never surfaces one at a time, the error lists every problem.
 */
export interface WarrenConfig {
  url?: string | readonly string[];
  name?: string;
  prefetch?: number;
  concurrency?: number;
  retry?: RetryPolicy;
  heartbeat?: number;
  publishTimeoutMs?: number;
  /**
   * Publishes sent to RabbitMQ and not yet confirmed, at most (default 1,000). Beyond it a publish
   * waits its turn, first come first served, instead of buffering without limit; its confirm
   * timeout starts when it is sent.
   */
  maxInFlightPublishes?: number;
  /**
   * Start without the broker (default false): `Warren.start()` resolves at once, the app reports
   * `down` until the broker answers, then declares its topology and attaches its consumers. For
   * orchestrators that start services before the broker.
   */
  waitForBroker?: boolean;
  requestTimeoutMs?: number;
  shutdownTimeoutMs?: number;
  maxBodyBytes?: number;
  /**
   * The type of every queue Warren declares (consumer, retry, dead-letter) for consumers that do not
   * set `queueType` (default `classic`; exclusive consumer queues are always classic). Every queue
   * states its `x-queue-type`, so a vhost whose default is quorum (Amazon MQ 4.x) changes nothing
   * by surprise: set `quorum` here to get quorum queues everywhere, on purpose.
   */
  queueType?: 'classic' | 'quorum';
  /** Default handler timeout in ms for every consumer (default 300,000: 5 minutes). */
  handlerTimeoutMs?: number;
  /**
   * The broker's `consumer_timeout` in ms, which RabbitMQ does not tell clients (default 1,800,000,
   * RabbitMQ's default since 3.8.15). Warren warns at start about handler timeouts at or above it.
   */
  brokerConsumerTimeoutMs?: number;
  /** Default unsettled redeliveries before a message is dead-lettered with `REDELIVERY_LIMIT` (default 5; false: none). */
  redeliveryLimit?: number | false;
  /** False: declare nothing, check the topology passively at start (users without configure permission). Default true. */
  declare?: boolean;
  validation?: { forbidNonWhitelisted?: boolean };
  health?: { port: number; host?: string };
  /** Passed to `tls.connect` for amqps:// (ca, cert, key, servername, rejectUnauthorized…). */
  tls?: TlsOptions;
  /** Per-consumer overrides, keyed by `Class.method` or by queue name. */
  consumers?: Record<string, Partial<Pick<ConsumerOptions, 'prefetch' | 'concurrency' | 'retry' | 'queue' | 'maxBodyBytes' | 'queueType' | 'timeoutMs' | 'redeliveryLimit' | 'declare'>>>;
}

/**
 * Reads Warren's settings from environment variables:
 * `AMQP_URL` (comma-separated for a cluster), `WARREN_NAME`, `WARREN_PREFETCH`, `WARREN_CONCURRENCY`,
 * `WARREN_RETRY_ATTEMPTS`, `WARREN_RETRY_DELAY_MS`, `WARREN_RETRY_BACKOFF`, `WARREN_RETRY_MAX_DELAY_MS`,
 * `WARREN_HEARTBEAT`, `WARREN_PUBLISH_TIMEOUT_MS`, `WARREN_MAX_IN_FLIGHT_PUBLISHES`, `WARREN_WAIT_FOR_BROKER`,
 * `WARREN_REQUEST_TIMEOUT_MS`, `WARREN_SHUTDOWN_TIMEOUT_MS`, `WARREN_MAX_BODY_BYTES`, `WARREN_QUEUE_TYPE`, `WARREN_HANDLER_TIMEOUT_MS`,
 * `WARREN_BROKER_CONSUMER_TIMEOUT_MS`, `WARREN_REDELIVERY_LIMIT` (a number or `false`),
 * `WARREN_DECLARE` (`true` / `false`), `WARREN_FORBID_NON_WHITELISTED`,
 * `WARREN_HEALTH_PORT`, `WARREN_HEALTH_HOST`, `WARREN_TLS_CA_FILE`, `WARREN_TLS_CERT_FILE`, `WARREN_TLS_KEY_FILE`,
 * `WARREN_TLS_SERVERNAME`. Unset variables are left out, so decorator and code defaults apply.
 *
 * @example
 * ```ts
 * await Warren.start({ handlers: [Billing], ...configFromEnv(process.env) });
 * ```
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env): WarrenConfig {
  const problems: string[] = [];
  const int = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) problems.push(`${name} must be a whole number ≥ ${min} (got "${raw}")`);
    return value;
  };
  const file = (name: string): Buffer | undefined => {
    const path = env[name];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      problems.push(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const config: WarrenConfig = {};
  if (env.AMQP_URL) config.url = env.AMQP_URL.includes(',') ? env.AMQP_URL.split(',').map((u) => u.trim()) : env.AMQP_URL;
  if (env.WARREN_NAME) config.name = env.WARREN_NAME;
  assign(config, 'prefetch', int('WARREN_PREFETCH', 1));
  assign(config, 'concurrency', int('WARREN_CONCURRENCY', 1));
  assign(config, 'heartbeat', int('WARREN_HEARTBEAT', 0));
  assign(config, 'publishTimeoutMs', int('WARREN_PUBLISH_TIMEOUT_MS', 1));
  assign(config, 'maxInFlightPublishes', int('WARREN_MAX_IN_FLIGHT_PUBLISHES', 1));
  assign(config, 'requestTimeoutMs', int('WARREN_REQUEST_TIMEOUT_MS', 1));
  const wait = env.WARREN_WAIT_FOR_BROKER;
  if (wait !== undefined && wait !== '') {
    if (wait !== 'true' && wait !== 'false') problems.push(`WARREN_WAIT_FOR_BROKER must be "true" or "false" (got "${wait}")`);
    else config.waitForBroker = wait === 'true';
  }
  assign(config, 'shutdownTimeoutMs', int('WARREN_SHUTDOWN_TIMEOUT_MS', 0));
  assign(config, 'maxBodyBytes', int('WARREN_MAX_BODY_BYTES', 1));
  assign(config, 'handlerTimeoutMs', int('WARREN_HANDLER_TIMEOUT_MS', 1));
  assign(config, 'brokerConsumerTimeoutMs', int('WARREN_BROKER_CONSUMER_TIMEOUT_MS', 1));
  if (env.WARREN_REDELIVERY_LIMIT === 'false') config.redeliveryLimit = false;
  else assign(config, 'redeliveryLimit', int('WARREN_REDELIVERY_LIMIT', 1));
  const declare = env.WARREN_DECLARE;
  if (declare !== undefined && declare !== '') {
    if (declare !== 'true' && declare !== 'false') problems.push(`WARREN_DECLARE must be "true" or "false" (got "${declare}")`);
    else config.declare = declare === 'true';
  }
  const attempts = int('WARREN_RETRY_ATTEMPTS', 1);
  if (attempts !== undefined) {
    const backoff = env.WARREN_RETRY_BACKOFF;
    if (backoff !== undefined && backoff !== 'fixed' && backoff !== 'exponential') problems.push(`WARREN_RETRY_BACKOFF must be "fixed" or "exponential" (got "${backoff}")`);
    config.retry = { attempts };
    assign(config.retry, 'delay', int('WARREN_RETRY_DELAY_MS', 1));
    assign(config.retry, 'maxDelay', int('WARREN_RETRY_MAX_DELAY_MS', 1));
    if (backoff === 'fixed' || backoff === 'exponential') config.retry.backoff = backoff;
  }
  const queueType = env.WARREN_QUEUE_TYPE;
  if (queueType !== undefined && queueType !== '') {
    if (queueType !== 'classic' && queueType !== 'quorum') problems.push(`WARREN_QUEUE_TYPE must be "classic" or "quorum" (got "${queueType}")`);
    else config.queueType = queueType;
  }
  const forbid = env.WARREN_FORBID_NON_WHITELISTED;
  if (forbid !== undefined && forbid !== '') {
    if (forbid !== 'true' && forbid !== 'false') problems.push(`WARREN_FORBID_NON_WHITELISTED must be "true" or "false" (got "${forbid}")`);
    else config.validation = { forbidNonWhitelisted: forbid === 'true' };
  }
  const healthPort = int('WARREN_HEALTH_PORT', 0);
  if (healthPort !== undefined) config.health = env.WARREN_HEALTH_HOST ? { port: healthPort, host: env.WARREN_HEALTH_HOST } : { port: healthPort };
  const ca = file('WARREN_TLS_CA_FILE');
  const cert = file('WARREN_TLS_CERT_FILE');
  const key = file('WARREN_TLS_KEY_FILE');
  if (ca || cert || key || env.WARREN_TLS_SERVERNAME) config.tls = { ca, cert, key, servername: env.WARREN_TLS_SERVERNAME || undefined };
  if (problems.length) throw new ConfigurationError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** Checks a configuration object (from code, a file or the environment); lists every problem at once. */
export function assertValidConfig(config: WarrenConfig): void {
  const problems: string[] = [];
  const positive = (value: unknown, path: string, min = 1, max = Number.MAX_SAFE_INTEGER) => {
    if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) {
      problems.push(max === Number.MAX_SAFE_INTEGER ? `${path} must be a whole number ≥ ${min} (got ${String(value)})` : `${path} must be a whole number from ${min} to ${max} (got ${String(value)})`);
    }
  };
  const timeout = (value: unknown, path: string, min = 1) => positive(value, path, min, MAX_TIMEOUT_MS);
  const retry = (policy: RetryPolicy | undefined, path: string) => {
    if (policy === undefined) return;
    positive(policy.attempts, `${path}.attempts`);
    timeout(policy.delay, `${path}.delay`);
    timeout(policy.maxDelay, `${path}.maxDelay`);
    if (policy.backoff !== undefined && policy.backoff !== 'fixed' && policy.backoff !== 'exponential') problems.push(`${path}.backoff must be "fixed" or "exponential"`);
    for (const key of ['delay', 'maxDelay'] as const) {
      if (typeof policy[key] === 'number' && policy[key] > MAX_RETRY_DELAY_MS) problems.push(`${path}.${key} must be at most ${MAX_RETRY_DELAY_MS} ms, one day (got ${policy[key]})`);
    }
  };
  // A stream is one consumer's choice (its queue becomes a log), never the app's default for every queue.
  const queueType = (value: unknown, path: string, stream = false) => {
    if (value === undefined || value === 'classic' || value === 'quorum' || (stream && value === 'stream')) return;
    problems.push(`${path} must be "classic"${stream ? ', "quorum" or "stream"' : ' or "quorum"'} (got ${JSON.stringify(value)})`);
  };
  if (config.url !== undefined && typeof config.url !== 'string' && !Array.isArray(config.url)) problems.push('url must be a string or a list of strings');
  positive(config.prefetch, 'prefetch', 1, MAX_PREFETCH);
  positive(config.concurrency, 'concurrency', 1, MAX_PREFETCH);
  if (config.prefetch !== undefined && config.concurrency !== undefined && config.prefetch < config.concurrency) problems.push(`prefetch (${config.prefetch}) must be ≥ concurrency (${config.concurrency})`);
  positive(config.heartbeat, 'heartbeat', 0, 65_535);
  timeout(config.publishTimeoutMs, 'publishTimeoutMs');
  timeout(config.requestTimeoutMs, 'requestTimeoutMs');
  timeout(config.shutdownTimeoutMs, 'shutdownTimeoutMs', 0);
  positive(config.maxInFlightPublishes, 'maxInFlightPublishes', 1, 1_000_000);
  if (config.waitForBroker !== undefined && typeof config.waitForBroker !== 'boolean') problems.push('waitForBroker must be true or false');
  positive(config.maxBodyBytes, 'maxBodyBytes');
  const redeliveries = (value: unknown, path: string) => { if (value !== false) positive(value, path); };
  const flag = (value: unknown, path: string) => { if (value !== undefined && typeof value !== 'boolean') problems.push(`${path} must be true or false`); };
  timeout(config.handlerTimeoutMs, 'handlerTimeoutMs');
  positive(config.brokerConsumerTimeoutMs, 'brokerConsumerTimeoutMs');
  redeliveries(config.redeliveryLimit, 'redeliveryLimit');
  flag(config.declare, 'declare');
  retry(config.retry, 'retry');
  queueType(config.queueType, 'queueType');
  if (config.health) {
    positive(config.health.port, 'health.port', 0, 65_535);
    if (config.health.host !== undefined && (typeof config.health.host !== 'string' || config.health.host === '')) problems.push('health.host must be a host name or address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)');
  }
  for (const [key, overrides] of Object.entries(config.consumers ?? {})) {
    positive(overrides.prefetch, `consumers["${key}"].prefetch`, 1, MAX_PREFETCH);
    positive(overrides.concurrency, `consumers["${key}"].concurrency`, 1, MAX_PREFETCH);
    positive(overrides.maxBodyBytes, `consumers["${key}"].maxBodyBytes`);
    timeout(overrides.timeoutMs, `consumers["${key}"].timeoutMs`);
    redeliveries(overrides.redeliveryLimit, `consumers["${key}"].redeliveryLimit`);
    flag(overrides.declare, `consumers["${key}"].declare`);
    retry(overrides.retry, `consumers["${key}"].retry`);
    queueType(overrides.queueType, `consumers["${key}"].queueType`, true);
  }
  if (problems.length) throw new ConfigurationError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
}
