import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { container, injectable } from 'tsyringe';
import {
  ConfigurationError, Consumer, DispatchConflictError, MemoryTransport, Publisher, QueueSettingsConflictError, route, silentLogger, Warren,
  type MessageContext, type SettledEvent,
} from '../src';
import { startError } from './support/start-error';

class Item {
  @IsString() id!: string;
}

const Q = { queue: 'groups.shared' } as const;

class DifferentPrefetch {
  @Consumer('groups', 'a', { ...Q, prefetch: 20 })
  async a(_item: Item) {}
  @Consumer('groups', 'b', { ...Q, prefetch: 50 })
  async b(_item: Item) {}
}

class SeveralDifferences {
  @Consumer('groups', 'a', Q)
  async a(_item: Item) {}
  @Consumer('groups', 'b', { ...Q, queueType: 'quorum', queueArguments: { 'x-max-length': 10 }, deadLetter: { queue: false } })
  async b(_item: Item) {}
}

class SameType {
  @Consumer('groups', 'a', { ...Q, type: 'Item' })
  async a(_item: Item) {}
  @Consumer('groups', 'b', { ...Q, type: 'Item' })
  async b(_item: Item) {}
}

class SameKey {
  @Consumer('groups', ['a', 'shared'], Q)
  async a(_item: Item) {}
  @Consumer('groups', 'shared', Q)
  async b(_item: Item) {}
}

class TwoOnFanout {
  @Consumer('groups.fanout', '', { ...Q, exchangeType: 'fanout' })
  async a(_item: Item) {}
  @Consumer('groups.fanout', '', { ...Q, exchangeType: 'fanout' })
  async b(_item: Item) {}
}

class SharedBatch {
  @Consumer('groups', 'a', { ...Q, message: Item, batch: { size: 5 } })
  async a(_items: Item[]) {}
  @Consumer('groups', 'b', Q)
  async b(_item: Item) {}
}

const seen: Array<{ method: string; id: string; attempt: number }> = [];

/** A typed method and a catch-all on a fanout exchange, with different retry policies. */
@injectable()
class FanoutKinds {
  @Consumer('groups.kinds', '', { ...Q, exchangeType: 'fanout', type: 'Item', retry: { attempts: 3, delay: 20 } })
  async item(item: Item, ctx: MessageContext) { seen.push({ method: 'item', id: item.id, attempt: ctx.attempt }); }
  @Consumer('groups.kinds', '', { ...Q, exchangeType: 'fanout', message: Object, retry: { attempts: 2, delay: 40 } })
  async rest(payload: Record<string, string>, ctx: MessageContext) { seen.push({ method: 'rest', id: payload.id!, attempt: ctx.attempt }); }
}

/** Two classes may share one queue; each keeps its own methods. */
@injectable()
class PlacedHandler {
  @Consumer('groups.orders', 'order.placed', { queue: 'groups.orders' })
  async handle(item: Item) { seen.push({ method: 'placed', id: item.id, attempt: 1 }); }
}
@injectable()
class CancelledHandler {
  @Consumer('groups.orders', 'order.cancelled', { queue: 'groups.orders' })
  async handle(item: Item) { seen.push({ method: 'cancelled', id: item.id, attempt: 1 }); }
}

@Publisher('groups.self', { bindings: [{ destination: 'groups.self' }] })
class SelfBound {
  readonly x = route('x', Item);
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).to.equal(true);
}

describe('Several @Consumer methods on one queue, at start', () => {
  beforeEach(() => { seen.length = 0; });

  it('refuses methods of one queue that disagree on a queue setting, naming the setting and both methods', async () => {
    const error = await startError({ handlers: [DifferentPrefetch] });
    expect(error).to.be.instanceOf(QueueSettingsConflictError).and.instanceOf(ConfigurationError);
    const conflict = error as QueueSettingsConflictError;
    expect(conflict.code).to.equal('QUEUE_SETTINGS_CONFLICT');
    expect(conflict.queue).to.equal('groups.shared');
    expect(conflict.consumers).to.deep.equal(['DifferentPrefetch.a', 'DifferentPrefetch.b']);
    expect(conflict.options).to.deep.equal(['prefetch']);
    expect(conflict.message).to.contain('prefetch: 20 vs 50');
  });

  it('names every queue setting that differs at once', async () => {
    const error = await startError({ handlers: [SeveralDifferences] }) as QueueSettingsConflictError;
    expect(error.options).to.deep.equal(['queueType', 'queueArguments', 'deadLetter']);
  });

  it('refuses methods that could claim the same delivery: one type twice, one routing key twice, two catch-alls on a fanout exchange', async () => {
    for (const [handler, text] of [[SameType, 'both take messages of type "Item"'], [SameKey, 'both bind the routing key "shared"'], [TwoOnFanout, 'told apart by { type }']] as const) {
      const error = await startError({ handlers: [handler] });
      expect(error, handler.name).to.be.instanceOf(DispatchConflictError);
      expect(error.message).to.contain(text);
    }
  });

  it('refuses a batch consumer that shares its queue', async () => {
    const error = await startError({ handlers: [SharedBatch] });
    expect(error).to.be.instanceOf(ConfigurationError);
    expect(error.message).to.contain('SharedBatch.a: a batch consumer needs its queue to itself');
  });

  it('refuses, at start, exchange-to-exchange bindings and exchanges RabbitMQ would refuse', async () => {
    expect((await startError({ publishers: [SelfBound] })).message).to.contain('binds exchange "groups.self" to itself');
    expect((await startError({ topology: { bindings: [{ source: '', destination: 'x' }] } })).message).to.contain('the default exchange "" cannot be bound');
    expect((await startError({ topology: { exchanges: [{ name: 'x', type: 'fanuot' as 'fanout' }] } })).message).to.contain('unknown type "fanuot"');
    expect((await startError({ topology: { bindings: 'nope' as never } })).message).to.contain('topology.bindings must be a list');
  });

  it('dispatches by type on a fanout exchange, the untyped method taking the rest, each with its own retry policy', async () => {
    const settled: SettledEvent[] = [];
    const transport = new MemoryTransport();
    const app = await Warren.start({ transport, handlers: [FanoutKinds], logger: silentLogger, container: container.createChildContainer(), onSettled: (e) => settled.push(e) });
    try {
      // One retry hop for the queue: each method's own policy travels with the message (its attempt count and delay).
      expect(app.consumers.map((c) => c.retryHop?.name)).to.deep.equal(['groups.shared.retry', 'groups.shared.retry']);
      await transport.inspectQueue('groups.shared.retry');
      await app.publish('groups.kinds', '', { id: 'typed' }, { type: 'Item' });
      await app.publish('groups.kinds', '', { id: 'plain' });
      await until(() => seen.length === 2);
      expect(seen.map((s) => [s.method, s.id]).sort()).to.deep.equal([['item', 'typed'], ['rest', 'plain']]);
      // A typed message the typed method refuses is dead-lettered by that method, not handed to the catch-all.
      await app.publish('groups.kinds', '', { wrong: true }, { type: 'Item' });
      await until(() => settled.some((e) => e.outcome === 'dead-lettered'));
      expect(settled.find((e) => e.outcome === 'dead-lettered')).to.include({ consumer: 'FanoutKinds.item' });
      expect(seen).to.have.length(2);
    } finally {
      await app.close();
    }
  });

  it('takes a message from the shared redelivered queue to the method of the key it was first published with', async () => {
    const transport = new MemoryTransport();
    const app = await Warren.start({ transport, handlers: [PlacedHandler, CancelledHandler], logger: silentLogger, container: container.createChildContainer() });
    try {
      // What the redelivery guard parks: the origin recorded, the count raised, through the default exchange.
      const headers = { 'x-warren-original-exchange': 'groups.orders', 'x-warren-original-routing-key': 'order.cancelled', 'x-warren-redeliveries': 1 };
      await app.publish('', 'groups.orders.redelivered', { id: 'parked' }, { headers });
      await until(() => seen.length === 1);
      expect(seen[0]).to.deep.include({ method: 'cancelled', id: 'parked' });
    } finally {
      await app.close();
    }
  });

  it('lets methods of two classes share a queue, NO_HANDLER naming both classes', async () => {
    const settled: SettledEvent[] = [];
    const transport = new MemoryTransport();
    const app = await Warren.start({ transport, handlers: [PlacedHandler, CancelledHandler], logger: silentLogger, container: container.createChildContainer(), onSettled: (e) => settled.push(e) });
    try {
      expect(app.health().consumers.map((c) => [c.consumer, c.attached])).to.deep.equal([['PlacedHandler.handle', true], ['CancelledHandler.handle', true]]);
      await app.publish('groups.orders', 'order.placed', { id: '1' });
      await app.publish('groups.orders', 'order.cancelled', { id: '2' });
      await app.publish('', 'groups.orders', { id: '3' });
      await until(() => settled.length === 3);
      expect(seen.map((s) => s.method).sort()).to.deep.equal(['cancelled', 'placed']);
      const dead = settled.find((e) => e.outcome === 'dead-lettered')!;
      expect([dead.consumer, dead.error?.code]).to.deep.equal(['PlacedHandler+CancelledHandler', 'NO_HANDLER']);
    } finally {
      await app.close();
    }
  });
});
