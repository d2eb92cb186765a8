import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { injectable } from 'tsyringe';
import { Warren, type WarrenOptions } from '../../src/app';
import type { MessageContext } from '../../src/context';
import { Consumer, Publisher, route } from '../../src/decorators';
import { RemoteError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import type { SettledEvent } from '../../src/pipeline';
import type { Delivery, Transport } from '../../src/transport';
import { eventually, rejectionOf, type ConformanceContext } from './context';

class Placed {
  @IsString() orderId!: string;
}

class Cancelled {
  @IsString() orderId!: string;
  @IsString() reason!: string;
}

class Note {
  @IsString() text!: string;
}

/** Which method took what, in arrival order. */
const taken: Array<{ method: string; payload: unknown; attempt: number; routingKey: string }> = [];
/** The first attempt of these methods fails. */
let failFirst = new Set<string>();

// One queue, four methods; the queue's own settings (exchange type, dead-letter route) are shared.
const queue = { queue: '${Q}', exchangeType: 'topic', deadLetter: { exchange: '${Q}.dlx' } } as const;

@injectable()
class OrderHandlers {
  @Consumer('${EX}', 'order.placed', queue)
  async placed(order: Placed, ctx: MessageContext) {
    taken.push({ method: 'placed', payload: order, attempt: ctx.attempt, routingKey: ctx.routingKey });
  }

  @Consumer('${EX}', 'order.cancelled', { ...queue, retry: { attempts: 2, delay: 50 } })
  async cancelled(order: Cancelled, ctx: MessageContext) {
    taken.push({ method: 'cancelled', payload: order, attempt: ctx.attempt, routingKey: ctx.routingKey });
    if (failFirst.has('cancelled') && ctx.attempt === 1) throw new Error('ledger unavailable');
  }

  @Consumer('${EX}', 'order.*', { ...queue, message: Object })
  async other(order: Record<string, unknown>, ctx: MessageContext) {
    taken.push({ method: 'other', payload: order, attempt: ctx.attempt, routingKey: ctx.routingKey });
  }

  @Consumer('${EX}', 'order.#', { ...queue, type: 'OrderNoted', reply: true, retry: { attempts: 2, delay: 50 } })
  async noted(note: Note, ctx: MessageContext) {
    taken.push({ method: 'noted', payload: note, attempt: ctx.attempt, routingKey: ctx.routingKey });
    if (failFirst.has('noted') && ctx.attempt === 1) throw new Error('notebook unavailable');
    return { noted: note.text };
  }
}

@Publisher('${EX}', { type: 'topic' })
class OrderEvents {
  readonly noted = route('order.noted', Note, { type: 'OrderNoted', reply: Object });
  readonly ask = route('order.ask.anyone', Note, { type: 'OrderAsked', reply: Object });
}

/**
 * Several `@Consumer` methods on one queue, run through the real pipeline on each broker: one
 * binding per key, each delivery dispatched to one method (type, then exact key, then the most
 * specific pattern), each method validating its own payload, NO_HANDLER for the rest.
 */
export function dispatchSpecs(ctx: ConformanceContext): void {
  describe('several message types on one queue (Warren on this broker)', () => {
    const apps: Warren[] = [];
    const settled: SettledEvent[] = [];
    let env: Record<string, string>;
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

    async function start(extra: Partial<WarrenOptions> = {}): Promise<Warren> {
      const transport = await ctx.newTransport();
      const app = await Warren.start({ transport, handlers: [OrderHandlers], env, logger, telemetry: false, onSettled: (e) => settled.push(e), ...extra });
      apps.push(app);
      for (const plan of app.consumers) ctx.track({ ...plan.topology, queues: [...(plan.topology.queues ?? []), ...(plan.retryHop ? [{ name: plan.retryHop.name }] : [])] });
      return app;
    }

    async function deadLetters(transport: Transport, count: number): Promise<Delivery[]> {
      const letters: Delivery[] = [];
      await eventually(async () => {
        for (let m = await transport.get(`${env.Q}.dlq`); m; m = await transport.get(`${env.Q}.dlq`)) {
          await m.ack();
          letters.push(m);
        }
        if (letters.length < count) throw new Error(`${letters.length} of ${count} dead letters so far`);
      }, 8000);
      return letters;
    }

    beforeEach(() => {
      env = { Q: ctx.name('dispatch'), EX: ctx.name('dispatch-ex') };
      taken.length = 0;
      settled.length = 0;
      failFirst = new Set();
    });

    afterEach(async () => {
      await Promise.allSettled(apps.splice(0).map((app) => Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 5000))])));
    });

    it('consumes the shared queue with one broker consumer, bound for every method\'s routing keys', async () => {
      const app = await start();
      expect(new Set(app.consumers.map((c) => c.queue))).to.deep.equal(new Set([env.Q]));
      expect((await app.transport.inspectQueue(env.Q!)).consumerCount).to.equal(1);
      await app.publish(env.EX!, 'order.placed', { orderId: 'o' }, { mandatory: true });
      await app.publish(env.EX!, 'order.cancelled', { orderId: 'o', reason: 'r' }, { mandatory: true });
      await app.publish(env.EX!, 'order.x', { orderId: 'o' }, { mandatory: true });
      await app.publish(env.EX!, 'order.x.y.z', { text: 'n' }, { mandatory: true, type: 'OrderNoted' });
      await eventually(async () => expect(taken.map((t) => t.method).sort()).to.deep.equal(['cancelled', 'noted', 'other', 'placed']), 5000);
    });

    it('takes each delivery to one method: its type first, then an exact key, then the most specific pattern', async () => {
      const app = await start();
      await app.publish(env.EX!, 'order.placed', { orderId: 'p1' });
      await app.publish(env.EX!, 'order.cancelled', { orderId: 'c1', reason: 'changed mind' });
      await app.publish(env.EX!, 'order.shipped', { orderId: 's1' });
      await app.publish(env.EX!, 'order.placed', { text: 'typed beats the exact key' }, { type: 'OrderNoted' });
      await app.publish(env.EX!, 'order.shipped', { orderId: 's2' }, { type: 'SomethingElse' });
      await eventually(async () => expect(taken).to.have.length(5), 5000);
      const byPayload = new Map(taken.map((t) => [JSON.stringify(t.payload), t.method]));
      expect(byPayload.get(JSON.stringify({ orderId: 'p1' }))).to.equal('placed');
      expect(byPayload.get(JSON.stringify({ orderId: 'c1', reason: 'changed mind' }))).to.equal('cancelled');
      expect(byPayload.get(JSON.stringify({ orderId: 's1' }))).to.equal('other');
      expect(byPayload.get(JSON.stringify({ text: 'typed beats the exact key' }))).to.equal('noted');
      expect(byPayload.get(JSON.stringify({ orderId: 's2' })), 'a type no method names falls back to the keys').to.equal('other');
      expect(settled.map((e) => e.outcome)).to.deep.equal(['handled', 'handled', 'handled', 'handled', 'handled']);
    });

    it('validates each delivery against the payload class of the method that takes it', async () => {
      const app = await start();
      await app.publish(env.EX!, 'order.cancelled', { orderId: 'c2' });
      const [dead] = await deadLetters(app.transport, 1);
      expect(dead!.properties.headers).to.include({ 'x-warren-error-code': 'VALIDATION_FAILED', 'x-warren-consumer': 'OrderHandlers.cancelled' });
      expect(String(dead!.properties.headers!['x-warren-error-details'])).to.contain('reason');
      expect(taken).to.have.length(0);
    });

    it('dead-letters with NO_HANDLER a delivery no method takes, whatever its routing key or type, and keeps consuming', async () => {
      const app = await start();
      // order.# (the typed method's binding) lets these in; no untyped key matches them.
      await app.publish(env.EX!, 'order.a.b', { orderId: 'x' });
      await app.publish(env.EX!, 'order.__proto__.constructor', { orderId: 'y' }, { type: '__proto__' });
      await app.publish(env.EX!, 'order.a.b', { orderId: 'z' }, { type: 'constructor\u0000\u001b[31m' });
      // Straight to the queue through the default exchange: its routing key is the queue's name.
      await app.publish('', env.Q!, { orderId: 'w' }, { type: 'toString' });
      const dead = await deadLetters(app.transport, 4);
      for (const letter of dead) {
        expect(letter.properties.headers).to.include({ 'x-warren-error-code': 'NO_HANDLER', 'x-warren-consumer': 'OrderHandlers', 'x-warren-original-queue': env.Q });
        expect(String(letter.properties.headers!['x-warren-error-message'])).to.match(/^No @Consumer method of queue ".*" handles this message/).and.not.match(/[\u0000-\u001f]/);
      }
      expect(dead.map((d) => d.properties.headers!['x-warren-original-routing-key']).sort()).to.deep.equal(['order.__proto__.constructor', 'order.a.b', 'order.a.b', env.Q].sort());
      expect(settled.filter((e) => e.outcome === 'dead-lettered').map((e) => e.error?.code)).to.deep.equal(['NO_HANDLER', 'NO_HANDLER', 'NO_HANDLER', 'NO_HANDLER']);
      expect(taken).to.have.length(0);
      await app.publish(env.EX!, 'order.placed', { orderId: 'after' });
      await eventually(async () => expect(taken.map((t) => t.method)).to.deep.equal(['placed']), 5000);
    });

    it('brings a retried delivery back to the method that failed it, by the key it was first published with or by its type', async () => {
      failFirst = new Set(['cancelled', 'noted']);
      const app = await start();
      await app.publish(env.EX!, 'order.cancelled', { orderId: 'c3', reason: 'retry me' });
      await eventually(async () => expect(taken).to.have.length(2), 8000);
      expect(taken.map((t) => [t.method, t.attempt, t.routingKey])).to.deep.equal([['cancelled', 1, 'order.cancelled'], ['cancelled', 2, 'order.cancelled']]);
      await app.publish(env.EX!, 'order.placed', { text: 'typed, retried' }, { type: 'OrderNoted' });
      await eventually(async () => expect(taken).to.have.length(4), 8000);
      expect(taken.slice(2).map((t) => [t.method, t.attempt])).to.deep.equal([['noted', 1], ['noted', 2]]);
      expect(settled.map((e) => [e.consumer, e.outcome])).to.deep.equal([
        ['OrderHandlers.cancelled', 'retried'], ['OrderHandlers.cancelled', 'handled'], ['OrderHandlers.noted', 'retried'], ['OrderHandlers.noted', 'handled'],
      ]);
    });

    it('answers a request with its method, and one no method takes with a NO_HANDLER error', async () => {
      const app = await start({ publishers: [OrderEvents] });
      const events = app.get(OrderEvents);
      expect(await events.noted.request({ text: 'hello' }, { timeoutMs: 5000 })).to.deep.equal({ noted: 'hello' });
      const error = await rejectionOf(events.ask.request({ text: 'anyone?' }, { timeoutMs: 5000 }));
      expect(error).to.be.instanceOf(RemoteError);
      expect((error as RemoteError).remoteCode).to.equal('NO_HANDLER');
      await deadLetters(app.transport, 1);
    });
  });
}
