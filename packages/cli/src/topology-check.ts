import type { ExchangeSpec, QueueSpec, Transport } from '@warren/core';

/** How a declared queue compares with the broker's. */
export interface QueueCheck {
  queue: string;
  status: 'ok' | 'missing' | 'arguments differ' | 'refused';
  /** RabbitMQ's own words, e.g. `inequivalent arg 'x-message-ttl' … received '500' but current is '1000'`. */
  detail?: string;
}

/**
 * Compares declared queues with a live broker without changing it: a passive declare tells whether
 * a queue exists, and only then is it declared with the service's arguments. RabbitMQ treats an
 * identical declaration as a no-op and refuses a different one (PRECONDITION_FAILED), which is
 * exactly the refusal the service would meet at start.
 *
 * @example
 * ```ts
 * const transport = new AmqpTransport({ url });
 * await transport.connect();
 * const checks = await checkQueues(transport, model.queues);
 * checks.filter((c) => c.status !== 'ok');
 * ```
 */
export async function checkQueues(transport: Transport, queues: readonly QueueSpec[]): Promise<QueueCheck[]> {
  const checks: QueueCheck[] = [];
  for (const queue of queues) {
    try {
      await transport.inspectQueue(queue.name);
    } catch (error) {
      const message = (error as Error).message;
      if (/NOT_FOUND/.test(message)) {
        checks.push({ queue: queue.name, status: 'missing' });
        continue;
      }
      throw error;
    }
    try {
      await transport.declare({ queues: [queue] });
      checks.push({ queue: queue.name, status: 'ok' });
    } catch (error) {
      const message = (error as Error).message;
      const detail = /PRECONDITION_FAILED\)?:?\s*(.*?)(?:\. An existing queue|$)/s.exec(message)?.[1] ?? message;
      checks.push({ queue: queue.name, status: /PRECONDITION_FAILED/.test(message) ? 'arguments differ' : 'refused', detail });
    }
  }
  return checks;
}

/** How a declared exchange compares with the broker's. */
export interface ExchangeCheck {
  exchange: string;
  status: 'ok' | 'missing' | 'differs' | 'refused' | 'exists';
  detail?: string;
}

/**
 * Compares exchanges with a live broker without changing it, as {@link checkQueues} does queues:
 * a passive declare tells whether each exists, then an exchange the services declare is declared
 * again with their settings (a no-op when equal, PRECONDITION_FAILED when its type or arguments
 * differ). `elsewhere` are exchanges the services only bind to or from (another service declares
 * them): only their existence is checked (status `exists`). The predeclared `amq.*` are skipped.
 *
 * @example
 * ```ts
 * const checks = await checkExchanges(transport, model.exchanges, ['audit']);
 * ```
 */
export async function checkExchanges(transport: Transport, exchanges: readonly ExchangeSpec[], elsewhere: readonly string[] = []): Promise<ExchangeCheck[]> {
  const checks: ExchangeCheck[] = [];
  const targets: Array<ExchangeSpec | string> = [...exchanges, ...elsewhere];
  for (const target of targets) {
    const name = typeof target === 'string' ? target : target.name;
    if (name === '' || name.startsWith('amq.')) continue;
    try {
      await transport.inspectExchange(name);
    } catch (error) {
      if (/NOT_FOUND/.test((error as Error).message)) {
        checks.push({ exchange: name, status: 'missing' });
        continue;
      }
      throw error;
    }
    if (typeof target === 'string') {
      checks.push({ exchange: name, status: 'exists' });
      continue;
    }
    try {
      await transport.declare({ exchanges: [target] });
      checks.push({ exchange: name, status: 'ok' });
    } catch (error) {
      const message = (error as Error).message;
      const detail = /PRECONDITION_FAILED\)?:?\s*(.*)$/s.exec(message)?.[1] ?? message;
      checks.push({ exchange: name, status: /PRECONDITION_FAILED/.test(message) ? 'differs' : 'refused', detail });
    }
  }
  return checks;
}
