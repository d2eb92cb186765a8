import 'reflect-metadata';
import { expect } from 'chai';
import { Consumer } from '../src/decorators';
import { ConfigurationError } from '../src/errors';
import { getConsumers } from '../src/metadata';
import { DEFAULT_CONSUMER_SETTINGS, planConsumer, resolveName, type ConsumerDefaults } from '../src/consumer-plan';
import { attemptOf } from '../src/context';
import { DELAY_DELIVERY_EXCHANGE, delayCascadeTopology, delayedAddress, MAX_DELAY_MS, readDelayedRoutingKey, routeHop } from '../src/delay-cascade';
import { OrderCreated } from './fixtures/orders';

const defaults: ConsumerDefaults = { ...DEFAULT_CONSUMER_SETTINGS, prefetch: 20, concurrency: 10, retry: { attempts: 1 }, validation: {}, maxBodyBytes: 1 << 20, queueType: 'classic' };

function planOf(type: Function, env: Record<string, string> = {}, overrides: Partial<ConsumerDefaults> = {}) {
  return getConsumers(type as never).map((d) => planConsumer(d, { ...defaults, ...overrides }, env));
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

  it('declares one retry hop back to the queue, whatever the delays of the policy', () => {
    class Mailer {
      @Consumer('mail', 'send', { queue: 'mailer', retry: { attempts: 4, delay: 100, backoff: 'exponential', maxDelay: 300 } })
      async send(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Mailer);
    expect(plan!.retryHop).to.include({ name: 'mailer.retry', queueType: 'classic', exchange: '', routingKey: 'mailer' });
    expect(plan!.topology.queues!.filter((q) => q.name.startsWith('mailer.retry')).map((q) => q.name)).to.deep.equal(['mailer.retry']);
    const hop = plan!.topology.queues!.find((q) => q.name === 'mailer.retry')!;
    expect(hop.arguments).to.deep.equal({ 'x-queue-type': 'classic', 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'mailer' });
    expect(plan!.topology.bindings).to.deep.include({ exchange: DELAY_DELIVERY_EXCHANGE, queue: 'mailer.retry', routingKey: `${'*.'.repeat(32)}${plan!.retryHop!.id}` });
  });

  it('declares no retry hop for a consumer that never retries', () => {
    class Once {
      @Consumer('mail', 'send', { queue: 'once' })
      async send(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Once);
    expect(plan!.retryHop).to.equal(undefined);
    expect(plan!.topology.queues!.map((q) => q.name)).to.deep.equal(['once', 'once.dlq', 'once.redelivered']);
  });

  it('makes the dead-letter queue and retry hop of a quorum consumer quorum queues too', () => {
    class Replicated {
      @Consumer('orders', 'created', { queue: 'replicated', queueType: 'quorum', retry: { attempts: 2, delay: 100 } })
      async on(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(Replicated);
    const byName = new Map(plan!.topology.queues!.map((q) => [q.name, q.arguments]));
    expect(byName.get('replicated')).to.include({ 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-delivery-limit': 20 });
    expect(byName.get('replicated.dlq')).to.deep.equal({ 'x-queue-type': 'quorum', 'x-delivery-limit': 1_000_000 });
    expect(byName.get('replicated.retry')).to.include({ 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-message-ttl': 0 });
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

describe('Queue types', () => {
  class Plain {
    @Consumer('orders', 'created', { queue: 'plain', retry: { attempts: 2, delay: 100 } })
    async on(order: OrderCreated) { void order; }
  }

  it('states x-queue-type classic on every queue of a consumer that chose none', () => {
    const [plan] = planOf(Plain);
    expect(plan!.queueType).to.equal('classic');
    expect(plan!.topology.queues!.map((q) => [q.name, q.arguments?.['x-queue-type']])).to.deep.equal([['plain', 'classic'], ['plain.dlq', 'classic'], ['warren.delay.unroutable', 'classic'], ['plain.retry', 'classic'], ['plain.redelivered', 'classic']]);
  });

  it('makes every queue quorum, with its settings, when the app default is quorum', () => {
    const [plan] = planOf(Plain, {}, { queueType: 'quorum' });
    const byName = new Map(plan!.topology.queues!.map((q) => [q.name, q.arguments]));
    expect(byName.get('plain')).to.include({ 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-delivery-limit': 20 });
    expect(byName.get('plain.dlq')).to.include({ 'x-queue-type': 'quorum' });
    expect(byName.get('plain.retry')).to.include({ 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' });
  });

  it('keeps an exclusive consumer queue classic under a quorum default', () => {
    class PerInstance {
      @Consumer('orders', 'created', { queue: 'mine', exclusive: true, durable: false })
      async on(order: OrderCreated) { void order; }
    }
    const [plan] = planOf(PerInstance, {}, { queueType: 'quorum' });
    expect(plan!.topology.queues![0]).to.deep.include({ name: 'mine', durable: false, exclusive: true });
    expect(plan!.topology.queues![0]!.arguments).to.include({ 'x-queue-type': 'classic' });
  });

  it('refuses a transient queue that is not exclusive, saying why', () => {
    class Transient {
      @Consumer('orders', 'created', { durable: false })
      async on(order: OrderCreated) { void order; }
    }
    expect(configurationError(() => planOf(Transient)).message).to.match(/durable: false needs exclusive: true.*RabbitMQ 4\.x deprecates transient queues/);
  });

  it('refuses a quorum queue that is exclusive', () => {
    class Wrong {
      @Consumer('orders', 'created', { queueType: 'quorum', exclusive: true })
      async on(order: OrderCreated) { void order; }
    }
    expect(configurationError(() => planOf(Wrong)).message).to.contain('a quorum queue is always durable, never exclusive');
  });

  it('refuses a quorum queue whose overflow would make dead-lettering at-most-once', () => {
    class DropHead {
      @Consumer('orders', 'created', { queueType: 'quorum', queueArguments: { 'x-max-length': 10, 'x-overflow': 'drop-head' } })
      async on(order: OrderCreated) { void order; }
    }
    expect(configurationError(() => planOf(DropHead)).message).to.contain('x-overflow: reject-publish');
  });

  it('refuses a full-queue-rejecting classic queue with retries, which would drop a returning retry', () => {
    class Bounded {
      @Consumer('orders', 'created', { queueArguments: { 'x-max-length': 10, 'x-overflow': 'reject-publish' }, retry: { attempts: 3 } })
      async on(order: OrderCreated) { void order; }
    }
    expect(configurationError(() => planOf(Bounded)).message).to.match(/x-overflow: reject-publish cannot take back a delayed retry.*queueType: 'quorum'/);
    class NoRetries {
      @Consumer('orders', 'created', { queueArguments: { 'x-max-length': 10, 'x-overflow': 'reject-publish' } })
      async on(order: OrderCreated) { void order; }
    }
    expect(planOf(NoRetries)).to.have.length(1);
  });

  it('refuses quorum-only arguments on a classic queue', () => {
    class Limited {
      @Consumer('orders', 'created', { queueArguments: { 'x-delivery-limit': 5 } })
      async on(order: OrderCreated) { void order; }
    }
    expect(configurationError(() => planOf(Limited)).message).to.contain('x-delivery-limit is a quorum-queue argument');
  });
});

describe('Retry delays', () => {
  it('refuses policy delays that are not whole milliseconds from 1 ms to one day', () => {
    for (const retry of [{ attempts: 2, delay: 1.5 }, { attempts: 2, delay: 0 }, { attempts: 2, delay: Number.NaN }, { attempts: 2, delay: 86_400_001, maxDelay: 90_000_000 }]) {
      class Odd {
        @Consumer('orders', 'created', { retry })
        async on(order: OrderCreated) { void order; }
      }
      expect(configurationError(() => planOf(Odd)).message).to.match(/retry\.(delay|maxDelay) must be/);
    }
  });

});

describe('Attempt counting', () => {
  const delivery = (headers?: Record<string, unknown>) => ({ body: Buffer.alloc(0), properties: { headers }, exchange: '', routingKey: 'q', queue: 'q', redelivered: false });

  it('starts at 1', () => {
    expect(attemptOf(delivery())).to.equal(1);
  });

  it('counts from Warren\'s own header, never from the broker\'s x-death', () => {
    const deaths = [{ reason: 'expired', queue: 'q.retry.100', count: 2 }];
    expect(attemptOf(delivery({ 'x-death': deaths }))).to.equal(1);
    expect(attemptOf(delivery({ 'x-warren-attempt': 3, 'x-death': deaths }))).to.equal(3);
  });

  it('ignores forged values below 1 or not whole', () => {
    expect(attemptOf(delivery({ 'x-warren-attempt': -50 }))).to.equal(1);
    expect(attemptOf(delivery({ 'x-warren-attempt': 2.5 }))).to.equal(1);
    expect(attemptOf(delivery({ 'x-warren-attempt': '7' }))).to.equal(1);
  });

  it('caps absurd forged values', () => {
    expect(attemptOf(delivery({ 'x-warren-attempt': 1e12 }))).to.equal(1000);
  });
});
