import 'reflect-metadata';
import { expect } from 'chai';
import { Consumer } from '../src/decorators';
import { ConfigurationError } from '../src/errors';
import { getConsumers } from '../src/metadata';
import { DEFAULT_CONSUMER_SETTINGS, planConsumer, resolveName, type ConsumerDefaults } from '../src/consumer-plan';
import { attemptOf } from '../src/context';
import { OrderCreated } from './fixtures/orders';

const defaults: ConsumerDefaults = { ...DEFAULT_CONSUMER_SETTINGS, prefetch: 20, concurrency: 10, retry: { attempts: 1 }, validation: {}, maxBodyBytes: 1 << 20 };

function planOf(type: Function, env: Record<string, string> = {}) {
  return getConsumers(type as never).map((d) => planConsumer(d, defaults, env));
}

function configurationError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('Consumer plan', () => {
  it('declares the queue with a dead-letter exchange from the start, and its DLQ', () => {
    class Shipping {
      @Consumer('orders', 'order.created', { queue: 'shipping.orders' })
      async ship(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Shipping);
    const queue = plan!.topology.queues!.find((q) => q.name === 'shipping.orders')!;
    expect(queue.durable).to.equal(true);
    expect(queue.arguments).to.include({ 'x-dead-letter-exchange': 'warren.dead-letter', 'x-dead-letter-routing-key': 'shipping.orders' });
    expect(plan!.topology.queues!.map((q) => q.name)).to.include('shipping.orders.dlq');
    expect(plan!.topology.bindings).to.deep.include({ exchange: 'warren.dead-letter', queue: 'shipping.orders.dlq', routingKey: 'shipping.orders' });
    expect(plan!.topology.bindings).to.deep.include({ exchange: 'orders', queue: 'shipping.orders', routingKey: 'order.created' });
  });

  it('declares one TTL retry queue per delay of an exponential policy', () => {
    class Mailer {
      @Consumer('mail', 'send', { queue: 'mailer', retry: { attempts: 4, delay: 100, backoff: 'exponential', maxDelay: 300 } })
      async send(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Mailer);
    expect([...plan!.retryQueues.entries()]).to.deep.equal([[100, 'mailer.retry.100'], [200, 'mailer.retry.200'], [300, 'mailer.retry.300']]);
    const retry = plan!.topology.queues!.find((q) => q.name === 'mailer.retry.200')!;
    expect(retry.arguments).to.deep.equal({ 'x-message-ttl': 200, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'mailer' });
  });

  it('makes the dead-letter and retry queues of a quorum consumer quorum queues too', () => {
    class Replicated {
      @Consumer('orders', 'created', { queue: 'replicated', queueType: 'quorum', retry: { attempts: 2, delay: 100 } })
      async on(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Replicated);
    const byName = new Map(plan!.topology.queues!.map((q) => [q.name, q.arguments]));
    expect(byName.get('replicated')).to.include({ 'x-queue-type': 'quorum' });
    expect(byName.get('replicated.dlq')).to.deep.equal({ 'x-queue-type': 'quorum' });
    expect(byName.get('replicated.retry.100')).to.include({ 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-message-ttl': 100 });
  });

  it('binds a headers exchange with x-match and the header values', () => {
    class Reports {
      @Consumer('reports', '', { exchangeType: 'headers', headers: { format: 'pdf' }, match: 'any', queue: 'reports.pdf' })
      async render(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Reports);
    expect(plan!.topology.bindings).to.deep.include({ exchange: 'reports', queue: 'reports.pdf', routingKey: '', arguments: { 'x-match': 'any', format: 'pdf' } });
  });

  it('resolves ${ENV} placeholders in names, with defaults', () => {
    class Tenant {
      @Consumer('${TENANT}.orders', 'created', { queue: '${TENANT}.billing.${SUFFIX:-main}' })
      async on(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Tenant, { TENANT: 'acme' });
    expect(plan!.exchange).to.equal('acme.orders');
    expect(plan!.queue).to.equal('acme.billing.main');
  });

  it('fails at start when a placeholder has no value', () => {
    class Missing {
      @Consumer('${NOPE}', 'k')
      async on(order: OrderCreated) { void order; }
    }
    expect(configurationError(() => planOf(Missing)).message).to.contain('NOPE');
  });

  it('names the class and method when the payload type cannot be resolved', () => {
    interface Untyped { a: string }
    class Vague {
      @Consumer('x', 'k')
      async handle(payload: Untyped) { void payload; }
    }
    expect(configurationError(() => planOf(Vague)).message).to.contain('Vague.handle');
  });

  it('refuses a prefetch lower than the concurrency', () => {
    class Greedy {
      @Consumer('x', 'k', { prefetch: 2, concurrency: 5 })
      async handle(order: OrderCreated) { void order; }
    }
    expect(configurationError(() => planOf(Greedy)).message).to.match(/prefetch \(2\) is lower than concurrency \(5\)/);
  });

  it('resolves name functions at start', () => {
    expect(resolveName(() => 'computed', {}, 'test')).to.equal('computed');
  });
});

describe('Attempt counting', () => {
  const delivery = (headers?: Record<string, unknown>) => ({ body: Buffer.alloc(0), properties: { headers }, exchange: '', routingKey: 'q', queue: 'q', redelivered: false });

  it('starts at 1', () => {
    expect(attemptOf(delivery(), 'q')).to.equal(1);
  });

  it('counts the broker\'s expirations from this queue\'s retry queues', () => {
    const deaths = [{ reason: 'expired', queue: 'q.retry.100', count: 2 }, { reason: 'expired', queue: 'other.retry.100', count: 9 }, { reason: 'rejected', queue: 'q', count: 5 }];
    expect(attemptOf(delivery({ 'x-death': deaths }), 'q')).to.equal(3);
  });

  it('cannot be pushed below the broker\'s count by a forged header', () => {
    expect(attemptOf(delivery({ 'x-warren-attempt': -50, 'x-death': [{ reason: 'expired', queue: 'q.retry.5', count: 1 }] }), 'q')).to.equal(2);
  });

  it('caps absurd forged values', () => {
    expect(attemptOf(delivery({ 'x-warren-attempt': 1e12 }), 'q')).to.equal(1000);
  });
});
