import 'reflect-metadata';
import { expect } from 'chai';
import { injectable } from 'tsyringe';
import { Warren, type WarrenOptions } from '../../src/app';
import type { MessageContext } from '../../src/context';
import { Consumer, Publisher, route } from '../../src/decorators';
import { DELAY_DELIVERY_EXCHANGE, DELAY_UNROUTABLE, delayCascadeTopology, delayedAddress, delayLevelName, MAX_DELAY_MS, routeHop } from '../../src/delay-cascade';
import { ConfigurationError, InvalidDelayError, TopologyError } from '../../src/errors';
import type { QueueType } from '../../src/consumer-topology';
import type { MessageProperties, Transport } from '../../src/transport';
import { eventually, rejectionOf, sleep, type ConformanceContext } from './context';

interface Arrival { at: number; payload: Record<string, unknown>; properties: Readonly<MessageProperties>; headers: Readonly<Record<string, unknown>>; exchange: string; routingKey: string }
const arrivals: Arrival[] = [];

@injectable()
class DueHandlers {
  @Consumer('${EX}', 'due', { queue: '${Q}', message: Object, deadLetter: { exchange: '${Q}.dlx' } })
  async due(payload: Record<string, unknown>, ctx: MessageContext) {
    arrivals.push({ at: Date.now(), payload, properties: ctx.properties, headers: ctx.headers, exchange: ctx.exchange, routingKey: ctx.routingKey });
  }
}

@Publisher('${EX}')
class Reminders {
  readonly due = route('due', Object);
}

/** The queues a cascade message went through, from the broker's own `x-death` record. */
function deathQueues(headers: Readonly<Record<string, unknown>>): string[] {
  const deaths = headers['x-death'];
  return Array.isArray(deaths) ? deaths.map((d) => String((d as Record<string, unknown>).queue)).sort() : [];
}

/**
 * Scheduled delivery (`delay` / `at` on a route) through the delay cascade, run through the real
 * publisher and consumer on each broker. Delays are short (1–3 s) and only their lower bound is a
 * promise; upper bounds are generous and their figures printed.
 */
export function schedulingSpecs(ctx: ConformanceContext): void {
  describe('scheduled delivery (Warren on this broker)', function () {
    this.timeout(30_000);
    const apps: Warren[] = [];
    let env: Record<string, string>;

    async function start(extra: Partial<WarrenOptions> = {}, before?: (transport: Transport) => Promise<void>): Promise<Warren> {
      const transport = await ctx.newTransport();
      await before?.(transport);
      const app = await Warren.start({ transport, handlers: [DueHandlers], publishers: [Reminders], env, telemetry: false, ...extra });
      apps.push(app);
      for (const plan of app.consumers) ctx.track(plan.topology);
      ctx.track({ exchanges: [{ name: env.EX!, type: 'direct' }, { name: `${env.Q}.dlx`, type: 'direct' }] });
      const type: QueueType = extra.queueType ?? 'classic';
      ctx.track({ queues: [{ name: routeHop(env.EX!, 'due', type).name }] });
      return app;
    }

    /** Sends with `options`, waits for the arrival, returns how long it took (ms) and the arrival. */
    async function timed(app: Warren, payload: Record<string, unknown>, options: Parameters<Reminders['due']>[1], waitMs = 15_000): Promise<{ elapsed: number; arrival: Arrival }> {
      const sent = Date.now();
      await app.get(Reminders).due(payload, options);
      // The first delayed send of an app declares the cascade and the hop (its delay is shortened by that time).
      console.log(`      (confirmed ${Date.now() - sent} ms after the call)`);
      const arrival = await eventually(async () => {
        const found = arrivals.find((a) => a.payload.n === payload.n);
        if (!found) throw new Error(`message ${String(payload.n)} has not arrived`);
        return found;
      }, waitMs);
      return { elapsed: arrival.at - sent, arrival };
    }

    /** A first delayed send declares the cascade and the hop, and takes that time off its delay: send one before exact paths are checked. */
    async function warmUp(app: Warren): Promise<void> {
      await app.get(Reminders).due({ n: 0 }, { delay: 1 });
      await eventually(async () => expect(arrivals.map((a) => a.payload.n)).to.include(0), 5000);
    }

    beforeEach(() => {
      env = { Q: ctx.name('sched'), EX: ctx.name('sched-ex') };
      arrivals.length = 0;
    });

    afterEach(async () => {
      await Promise.allSettled(apps.splice(0).map((app) => Promise.race([app.close(), sleep(5000)])));
    });

    it('delivers a delayed send no earlier than its delay, with its properties and headers', async () => {
      const app = await start();
      const { elapsed, arrival } = await timed(app, { n: 1 }, { delay: 1500, headers: { tenant: 'acme', 'x-trace': 'abc' }, correlationId: 'c-1', messageId: 'm-1', priority: 3 });
      console.log(`      delay 1500 ms: arrived after ${elapsed} ms on ${app.transport.description}`);
      expect(elapsed).to.be.at.least(1500);
      expect(elapsed, 'a generous bound: the cascade adds milliseconds, not seconds').to.be.below(1500 + 10_000);
      expect(arrival.exchange).to.equal(env.EX);
      expect(arrival.routingKey).to.equal('due');
      expect(arrival.properties).to.include({ messageId: 'm-1', correlationId: 'c-1', contentType: 'application/json', deliveryMode: 2, priority: 3 });
      expect(arrival.headers).to.include({ tenant: 'acme', 'x-trace': 'abc' });
    });

    it('waits in one cascade queue per bit of the delay, whatever the delay, and arrives by the route\'s hop', async () => {
      const app = await start();
      await warmUp(app);
      // 1234 ms = 2^10 + 2^7 + 2^6 + 2^4 + 2^1
      const { elapsed, arrival } = await timed(app, { n: 2 }, { delay: 1234 });
      console.log(`      delay 1234 ms (5 bits): arrived after ${elapsed} ms`);
      expect(elapsed).to.be.at.least(1234);
      const hop = routeHop(env.EX!, 'due', 'classic');
      expect(deathQueues(arrival.headers)).to.deep.equal([...[10, 7, 6, 4, 1].map((level) => delayLevelName('classic', level)), hop.name].sort());
    });

    it('delivers at a Date, and promptly when the Date has passed', async () => {
      const app = await start();
      const at = new Date(Date.now() + 1000);
      const future = await timed(app, { n: 3 }, { at });
      console.log(`      at now + 1000 ms: arrived ${future.arrival.at - at.getTime()} ms after that time`);
      expect(future.arrival.at).to.be.at.least(at.getTime());
      const past = await timed(app, { n: 4 }, { at: new Date(Date.now() - 60_000) });
      console.log(`      at a minute ago: arrived after ${past.elapsed} ms`);
      expect(past.elapsed, 'sent at once, not through the cascade').to.be.below(5000);
      expect(past.arrival.headers).not.to.have.property('x-death');
    });

    it('runs through the quorum cascade when the app\'s queues are quorum', async () => {
      const app = await start({ queueType: 'quorum' });
      await warmUp(app);
      const { elapsed, arrival } = await timed(app, { n: 5 }, { delay: 1100 });
      console.log(`      quorum cascade, delay 1100 ms: arrived after ${elapsed} ms`);
      expect(elapsed).to.be.at.least(1100);
      expect(deathQueues(arrival.headers)).to.include(delayLevelName('quorum', 10)).and.include(routeHop(env.EX!, 'due', 'quorum').name);
    });

    it('refuses invalid delays with INVALID_DELAY before anything is sent', async () => {
      const app = await start();
      const due = app.get(Reminders).due;
      const invalid: Array<Parameters<typeof due>[1]> = [
        { delay: -1 }, { delay: 1.5 }, { delay: Number.NaN }, { delay: MAX_DELAY_MS + 1 }, { delay: '1000' as never },
        { at: new Date(Number.NaN) }, { at: '2030-01-01' as never }, { at: new Date(Date.now() + MAX_DELAY_MS + 60_000) }, { delay: 10, at: new Date() },
      ];
      for (const options of invalid) {
        const error = await rejectionOf(Promise.resolve().then(() => due({ n: 6 }, options)));
        expect(error, JSON.stringify(options)).to.be.instanceOf(InvalidDelayError);
        expect((error as InvalidDelayError).code).to.equal('INVALID_DELAY');
      }
      for (const options of [{ delay: 10, expiration: 1000 }, { delay: 10, routingKey: 'elsewhere' }]) {
        expect(await rejectionOf(Promise.resolve().then(() => due({ n: 6 }, options))), JSON.stringify(options)).to.be.instanceOf(ConfigurationError);
      }
      expect(await rejectionOf(due.request({ n: 6 }, { delay: 10 }))).to.be.instanceOf(ConfigurationError);
      await sleep(300);
      expect(arrivals).to.deep.equal([]);
    });

    it('parks a message whose cascade routing key names no hop in warren.delay.unroutable, and delivers nothing', async () => {
      const app = await start();
      await app.get(Reminders).due({ n: 7 }, { delay: 5 }); // declares the cascade and the hop
      await eventually(async () => expect(arrivals).to.have.length(1), 5000);
      const forged = (messageId: string, exchange: string, routingKey: string) => app.transport.publish({ exchange, routingKey, body: Buffer.from('{"n":8}'), properties: { messageId, contentType: 'application/json' } });
      const stranger = { ...routeHop(env.EX!, 'due', 'classic'), id: 'f'.repeat(32) };
      const ids = [`${env.Q}-garbage`, `${env.Q}-short`, `${env.Q}-unknown-hop`, `${env.Q}-deliver`];
      await forged(ids[0]!, delayLevelName('classic', 3), 'not.a.delay');
      await forged(ids[1]!, delayLevelName('classic', 0), '1.1.1');
      await forged(ids[2]!, delayedAddress(3, stranger).exchange, delayedAddress(3, stranger).routingKey);
      await forged(ids[3]!, DELAY_DELIVERY_EXCHANGE, `${env.EX}.due`);
      const parked = new Set<string>();
      await eventually(async () => {
        // The unroutable queue is shared: take what is ours, give the rest back.
        const held = [];
        for (let m = await app.transport.get(DELAY_UNROUTABLE), n = 0; m && n < 1000; m = await app.transport.get(DELAY_UNROUTABLE), n++) held.push(m);
        for (const m of held) {
          if (ids.includes(m.properties.messageId ?? '')) { parked.add(m.properties.messageId!); await m.ack(); } else await m.nack(true);
        }
        expect([...parked].sort()).to.deep.equal([...ids].sort());
      }, 8000);
      expect(arrivals).to.have.length(1);
    });

    it('checks instead of declaring for a publisher that does not declare, and names what is missing', async () => {
      // An administrator created the exchange and the cascade, but not this route's hop.
      const app = await start({ declare: false, handlers: [] }, async (transport) => {
        await ctx.declare({ exchanges: [{ name: env.EX!, type: 'direct' }] }, transport);
        await transport.declare(delayCascadeTopology('classic'));
      });
      const error = await rejectionOf(app.get(Reminders).due({ n: 9 }, { delay: 10 }));
      expect(error).to.be.instanceOf(TopologyError);
      expect(error.message).to.contain(routeHop(env.EX!, 'due', 'classic').name);
    });
  });
}
