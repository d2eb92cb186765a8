import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Type } from 'class-transformer';
import { IsInt, IsString, IsUUID, Min, ValidateNested } from 'class-validator';
import { container, injectable } from 'tsyringe';
import {
  AmqpTransport, ConnectionError, Consumer, MessageContext, PayloadValidationError, Publisher, reject, RemoteError, route,
  UnroutableError, Warren, type Logger, type SettledEvent, type WarrenOptions,
} from '../src';
import { HOSTILE_PASSWORDS } from './support/passwords';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { until } from './support/until';
import { afterCleanup, afterEachCleanup } from './support/cleanup';

class Item {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
}

class Order {
  @IsUUID() orderId!: string;
  @ValidateNested({ each: true }) @Type(() => Item) items!: Item[];
}

class Quote {
  @IsInt() cents!: number;
}

@Publisher('${EX}')
class Orders {
  readonly created = route('order.created', Order);
  readonly picture = route('order.picture', Buffer);
  readonly nobodyListens = route('order.nobody', Order);
  readonly quote = route('order.quote', Order, { reply: Quote });
}

/** Everything the handlers saw, shared through DI so each test gets a fresh one. */
@injectable()
class Seen {
  orders: Order[] = [];
  pictures: Buffer[] = [];
  contexts: MessageContext[] = [];
  topic: string[] = [];
  fanout: string[] = [];
  headers: string[] = [];
  failures = 0;
  slowStarted = 0;
  slowFinished: string[] = [];
}

@injectable()
class OrderHandlers {
  constructor(private readonly seen: Seen) {}

  @Consumer('${EX}', 'order.created', { queue: '${Q}.orders' })
  async created(order: Order, ctx: MessageContext) {
    this.seen.orders.push(order);
    this.seen.contexts.push(ctx);
  }

  @Consumer('${EX}', 'order.picture', { queue: '${Q}.pictures' })
  async picture(image: Buffer) {
    this.seen.pictures.push(image);
  }

  @Consumer('${EX}', 'order.quote', { queue: '${Q}.quotes' })
  async quote(order: Order): Promise<Quote> {
    if (order.items.length === 0) throw new Error('cannot quote an empty order');
    return { cents: order.items.reduce((n, i) => n + i.qty * 250, 0) };
  }
}

@injectable()
class RoutingHandlers {
  constructor(private readonly seen: Seen) {}

  @Consumer('${EX}.topic', ['eu.*.created', 'us.#'], { exchangeType: 'topic', queue: '${Q}.topic' })
  async topic(_order: Order, ctx: MessageContext) { this.seen.topic.push(ctx.routingKey); }

  @Consumer('${EX}.fanout', '', { exchangeType: 'fanout', queue: '${Q}.fanout' })
  async fanout(_order: Order, ctx: MessageContext) { this.seen.fanout.push(ctx.routingKey); }

  @Consumer('${EX}.headers', '', { exchangeType: 'headers', headers: { format: 'pdf', region: 'eu' }, match: 'all', queue: '${Q}.headers' })
  async headers(_order: Order, ctx: MessageContext) { this.seen.headers.push(String(ctx.header('format'))); }
}

@injectable()
class FailingHandlers {
  constructor(private readonly seen: Seen) {}

  @Consumer('${EX}', 'order.fail', { queue: '${Q}.fail', retry: { attempts: 3, delay: 50 } })
  async fail(_order: Order) {
    this.seen.failures++;
    throw new Error('ledger unavailable');
  }
}

@injectable()
class QuorumHandlers {
  constructor(private readonly seen: Seen) {}

  @Consumer('${EX}', 'order.quorum', { queue: '${Q}.quorum', queueType: 'quorum', retry: { attempts: 3, delay: 50 } })
  async flaky(order: Order) {
    this.seen.failures++;
    if (this.seen.failures < 3) throw new Error('not yet');
    this.seen.orders.push(order);
  }
}

@injectable()
class ShuffledHandlers {
  constructor(private readonly seen: Seen) {}

  /** Finishes out of order; every tenth order is rejected: acks and nacks interleave on one channel. */
  @Consumer('${EX}', 'order.shuffled', { queue: '${Q}.shuffled', prefetch: 50, concurrency: 20 })
  async shuffled(order: Order) {
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 15)));
    if (order.items[0]!.qty % 10 === 0) return reject('every tenth');
    this.seen.slowFinished.push(order.orderId);
    return undefined;
  }
}

@injectable()
class SlowHandlers {
  constructor(private readonly seen: Seen) {}

  @Consumer('${EX}', 'order.slow', { queue: '${Q}.slow', prefetch: 10, concurrency: 5 })
  async slow(order: Order) {
    this.seen.slowStarted++;
    await new Promise((resolve) => setTimeout(resolve, 40));
    this.seen.slowFinished.push(order.orderId);
  }
}

/** A real broker is slower than the in-memory one: a longer default wait. */
const eventually = (condition: () => boolean | Promise<boolean>, timeoutMs = 8000) => until(condition, timeoutMs);

const order = (qty = 1): Order => ({ orderId: randomUUID(), items: [{ sku: 'A-1', qty }] });


describeWithBroker('Warren on RabbitMQ', function () {
  let env: Record<string, string>;
  let seen: Seen;
  let admin: AmqpTransport;
  const apps: Warren[] = [];
  const settled: SettledEvent[] = [];

  async function start(handlers: Function[], extra: Partial<WarrenOptions> = {}): Promise<Warren> {
    const child = container.createChildContainer();
    child.registerInstance(Seen, seen);
    const app = await Warren.start({ url: AMQP_URL, handlers: handlers as never, publishers: [Orders], container: child, env, logger: quiet, onSettled: (e) => settled.push(e), ...extra });
    apps.push(app);
    return app;
  }

  before(async () => {
    admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
  });

  afterCleanup('close the admin connection', () => admin?.close());

  beforeEach(() => {
    env = { EX: uniqueName('ex'), Q: uniqueName('q') };
    seen = new Seen();
    settled.length = 0;
  });

  afterEachCleanup('close the apps, delete their topology', async () => {
    const exchanges = new Set<string>();
    const queues = new Set<string>();
    for (const app of apps.splice(0)) {
      await app.close();
      app.consumers.forEach((c) => { c.topology.queues?.forEach((q) => queues.add(q.name)); exchanges.add(c.exchange); });
      app.publishers.forEach((p) => exchanges.add(p.exchange.name));
    }
    for (const q of queues) await admin.deleteQueue(q).catch(() => undefined);
    for (const e of exchanges) if (e) await admin.deleteExchange(e).catch(() => undefined);
  });

  it('delivers a published order to its handler as a validated instance', async () => {
    const app = await start([OrderHandlers]);
    const sent = order(2);
    await app.get(Orders).created(sent, { headers: { tenant: 'acme' }, correlationId: 'c-1' });
    await eventually(() => seen.orders.length === 1);
    expect(seen.orders[0]).to.be.instanceOf(Order);
    expect(seen.orders[0]!.items[0]).to.be.instanceOf(Item);
    expect(seen.orders[0]!.orderId).to.equal(sent.orderId);
    const ctx = seen.contexts[0]!;
    expect(ctx.header('tenant')).to.equal('acme');
    expect(ctx.correlationId).to.equal('c-1');
    expect(ctx.messageId).to.be.a('string');
    expect(ctx.routingKey).to.equal('order.created');
    expect(ctx.attempt).to.equal(1);
    expect(ctx.properties.deliveryMode).to.equal(2);
  });

  it('routes on topic, fanout and headers exchanges', async () => {
    const app = await start([RoutingHandlers]);
    for (const key of ['eu.de.created', 'eu.de.shipped', 'us', 'us.ny.created.late', 'asia.created']) {
      await app.publish(`${env.EX}.topic`, key, order());
    }
    await app.publish(`${env.EX}.fanout`, 'anything', order());
    await app.publish(`${env.EX}.headers`, '', order(), { headers: { format: 'pdf', region: 'eu' } });
    await app.publish(`${env.EX}.headers`, '', order(), { headers: { format: 'pdf', region: 'us' } });
    await eventually(() => seen.topic.length === 3 && seen.fanout.length === 1 && seen.headers.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.topic.sort()).to.deep.equal(['eu.de.created', 'us', 'us.ny.created.late']);
    expect(seen.fanout).to.deep.equal(['anything']);
    expect(seen.headers).to.deep.equal(['pdf']);
  });

  it('dead-letters a payload that fails validation, with the reason in its headers', async () => {
    const app = await start([OrderHandlers]);
    await app.publish(env.EX!, 'order.created', { orderId: 'not-a-uuid', items: [{ sku: 'A', qty: 0 }] });
    await eventually(async () => (await admin.inspectQueue(`${env.Q}.orders.dlq`)).messageCount === 1);
    const dead = (await admin.get(`${env.Q}.orders.dlq`))!;
    await dead.ack();
    const headers = dead.properties.headers!;
    expect(headers['x-warren-error-code']).to.equal('VALIDATION_FAILED');
    expect(String(headers['x-warren-error-details'])).to.contain('orderId').and.to.contain('items.0.qty');
    expect(headers['x-warren-original-exchange']).to.equal(env.EX);
    expect(headers['x-warren-original-routing-key']).to.equal('order.created');
    expect(JSON.parse(dead.body.toString())).to.deep.equal({ orderId: 'not-a-uuid', items: [{ sku: 'A', qty: 0 }] });
    expect(seen.orders).to.be.empty;
  });

  it('dead-letters malformed JSON unchanged, and keeps consuming', async () => {
    const app = await start([OrderHandlers]);
    await app.publish(env.EX!, 'order.created', Buffer.from('{"orderId": '), { contentType: 'application/json' });
    await app.get(Orders).created(order());
    await eventually(async () => seen.orders.length === 1 && (await admin.inspectQueue(`${env.Q}.orders.dlq`)).messageCount === 1);
    const dead = (await admin.get(`${env.Q}.orders.dlq`))!;
    await dead.ack();
    expect(dead.properties.headers!['x-warren-error-code']).to.equal('DECODE_FAILED');
    expect(dead.body.toString()).to.equal('{"orderId": ');
  });

  it('delivers binary payloads byte for byte', async () => {
    const app = await start([OrderHandlers]);
    const image = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    await app.get(Orders).picture(image);
    await eventually(() => seen.pictures.length === 1);
    expect(seen.pictures[0]!.equals(image)).to.equal(true);
  });

  it('retries a failing handler with a delay, then dead-letters it after exactly N attempts', async () => {
    const app = await start([FailingHandlers]);
    await app.publish(env.EX!, 'order.fail', order());
    await eventually(async () => (await admin.inspectQueue(`${env.Q}.fail.dlq`)).messageCount === 1);
    expect(seen.failures).to.equal(3);
    const dead = (await admin.get(`${env.Q}.fail.dlq`))!;
    await dead.ack();
    const headers = dead.properties.headers!;
    expect(headers['x-warren-error-code']).to.equal('HANDLER_FAILED');
    expect(headers['x-warren-error-message']).to.equal('ledger unavailable');
    expect(headers['x-warren-attempts']).to.equal(3);
    expect(headers['x-warren-original-routing-key']).to.equal('order.fail');
    expect(settled.filter((e) => e.outcome === 'retried')).to.have.length(2);
  });

  it('retries through the quorum delay cascade back to a quorum queue', async () => {
    await start([QuorumHandlers]);
    const info = await admin.inspectQueue(`${env.Q}.quorum.retry`);
    expect(info.messageCount).to.equal(0);
    await apps[0]!.publish(env.EX!, 'order.quorum', order());
    await eventually(() => seen.orders.length === 1, 15_000);
    expect(seen.failures).to.equal(3);
  });

  it('settles every message exactly once when handlers finish out of order and some are rejected', async () => {
    const app = await start([ShuffledHandlers]);
    for (let i = 1; i <= 300; i++) await app.publish(env.EX!, 'order.shuffled', order(i));
    await eventually(async () => seen.slowFinished.length === 270 && (await admin.inspectQueue(`${env.Q}.shuffled.dlq`)).messageCount === 30, 15_000);
    await app.close();
    // Closing returns unacknowledged messages to the queue: an ack that was never sent would show here.
    expect((await admin.inspectQueue(`${env.Q}.shuffled`)).messageCount).to.equal(0);
    expect(new Set(seen.slowFinished).size).to.equal(270);
    expect(seen.slowFinished).to.have.length(270);
  });

  it('reports an unroutable command to the caller', async () => {
    const app = await start([OrderHandlers]);
    let error: unknown;
    try {
      await app.get(Orders).nobodyListens(order());
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(UnroutableError);
    expect((error as UnroutableError).routingKey).to.equal('order.nobody');
  });

  it('refuses to publish an invalid message before sending anything', async () => {
    const app = await start([OrderHandlers]);
    let error: unknown;
    try {
      await app.get(Orders).created({ orderId: 'x', items: [] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(PayloadValidationError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await admin.inspectQueue(`${env.Q}.orders`)).messageCount).to.equal(0);
    expect(seen.orders).to.be.empty;
  });

  it('answers a request with the handler\'s return value, and a handler error with a typed error reply', async () => {
    const app = await start([OrderHandlers]);
    const quote = await app.get(Orders).quote.request(order(3), { timeoutMs: 5000 });
    expect(quote).to.be.instanceOf(Quote);
    expect(quote.cents).to.equal(750);
    let error: unknown;
    try {
      await app.get(Orders).quote.request({ orderId: randomUUID(), items: [] }, { timeoutMs: 5000 });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(RemoteError);
    expect((error as RemoteError).remoteCode).to.equal('HANDLER_FAILED');
    expect((error as RemoteError).message).to.contain('cannot quote an empty order');
  });

  it('loses no message when closed with handlers in flight', async () => {
    const app = await start([SlowHandlers]);
    const ids = Array.from({ length: 40 }, () => randomUUID());
    for (const id of ids) await app.publish(env.EX!, 'order.slow', { orderId: id, items: [{ sku: 'S', qty: 1 }] });
    await eventually(() => seen.slowStarted >= 5);
    await app.close();
    const finishedAtClose = seen.slowFinished.length;
    expect(finishedAtClose).to.equal(seen.slowStarted, 'every started handler finished before close returned');
    const left = (await admin.inspectQueue(`${env.Q}.slow`)).messageCount;
    expect(finishedAtClose + left).to.equal(ids.length);
    await start([SlowHandlers]);
    await eventually(() => seen.slowFinished.length >= ids.length, 15_000);
    expect(new Set(seen.slowFinished)).to.deep.equal(new Set(ids));
  });

  it('fails with ACCESS_REFUSED and never shows the password, whatever characters it holds', async () => {
    const broker = new URL(AMQP_URL);
    for (const password of ['Wr0ng-Pa55word', ...HOSTILE_PASSWORDS]) {
      const lines: string[] = [];
      const capture: Logger = { debug: (m, f) => lines.push(m + JSON.stringify(f)), info: (m, f) => lines.push(m + JSON.stringify(f)), warn: (m, f) => lines.push(m + JSON.stringify(f)), error: (m, f) => lines.push(m + JSON.stringify(f)) };
      // Written by hand, not through URL: the password goes in unencoded, as people paste it.
      const url = `amqp://guest:${password}@${broker.host}/`;
      let error: unknown;
      try {
        await Warren.start({ url, handlers: [OrderHandlers], env, logger: capture });
      } catch (e) {
        error = e;
      }
      expect(error, password).to.be.instanceOf(ConnectionError);
      expect((error as ConnectionError).code).to.equal('ACCESS_REFUSED');
      const everything = [String((error as Error).message), String((error as Error).stack), JSON.stringify(error), ...lines].join('\n');
      expect(everything, password).not.to.contain(password);
      expect(everything, password).not.to.contain('guest:');
      expect(everything).to.contain(`amqp://${broker.host}`);
    }
  });
});

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
