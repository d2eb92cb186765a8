import 'reflect-metadata';
import { expect } from 'chai';
import { IsInt } from 'class-validator';
import { injectable } from 'tsyringe';
import { MAX_REQUEUES, reject, requeue, retryLater } from '../../src/actions';
import { Warren, type WarrenOptions } from '../../src/app';
import { replayDeadLetters } from '../../src/dead-letters';
import { Consumer, Publisher, route } from '../../src/decorators';
import { RemoteError, TopologyError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import type { MessageContext } from '../../src/context';
import type { SettledEvent } from '../../src/pipeline';
import { delayLevelName } from '../../src/delay-cascade';
import type { Delivery, FieldTable, Transport } from '../../src/transport';
import { eventually, rejectionOf, type ConformanceContext } from './context';

/** What the handlers of this file do: each test sets it before it publishes. */
let behaviour: (payload: Record<string, unknown>, ctx: MessageContext) => unknown = () => undefined;
const seen: Array<{ payload: Record<string, unknown>; attempt: number; exchange: string; routingKey: string; headers: Readonly<Record<string, unknown>> }> = [];

// Every name is per test (`${Q}`, `${EX}`), the dead-letter exchange too, so cleanup never touches a shared one.
const policy = { queue: '${Q}', message: Object, retry: { attempts: 2, delay: 50 }, deadLetter: { exchange: '${Q}.dlx' } } as const;

@injectable()
class PolicyHandlers {
  @Consumer('${EX}', 'work', policy)
  async work(payload: Record<string, unknown>, ctx: MessageContext) {
    seen.push({ payload, attempt: ctx.attempt, exchange: ctx.exchange, routingKey: ctx.routingKey, headers: ctx.headers });
    return behaviour(payload, ctx);
  }
}

@injectable()
class PatientHandlers {
  @Consumer('${EX}', 'work', { ...policy, retry: { attempts: 4, delay: 50 } })
  async work(payload: Record<string, unknown>, ctx: MessageContext) {
    seen.push({ payload, attempt: ctx.attempt, exchange: ctx.exchange, routingKey: ctx.routingKey, headers: ctx.headers });
    return behaviour(payload, ctx);
  }
}

@injectable()
class TransientHandlers {
  @Consumer('${EX}', 'work', { ...policy, durable: false, exclusive: true })
  async work(payload: Record<string, unknown>, ctx: MessageContext) {
    seen.push({ payload, attempt: ctx.attempt, exchange: ctx.exchange, routingKey: ctx.routingKey, headers: ctx.headers });
  }
}

class Question {
  @IsInt() n!: number;
}

@Publisher('${EX}')
class Questions {
  readonly ask = route('ask', Question, { reply: Object });
}

@injectable()
class AnsweringHandlers {
  @Consumer('${EX}', 'ask', { queue: '${Q}', deadLetter: { exchange: '${Q}.dlx' } })
  async ask(question: Question) {
    return behaviour(question as never, undefined as never);
  }
}

/** Values a handler can throw that are not Errors, or whose reading runs hostile code. */
function oddValues(): Array<{ value: unknown; message: string | RegExp }> {
  const hostile = new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } });
  const badMessage = new Error('unused');
  Object.defineProperty(badMessage, 'message', { get() { throw new Error('getter'); } });
  return [
    { value: Object.create(null), message: 'the handler threw an object without a prototype' },
    { value: { toString() { throw new Error('no'); } }, message: 'the handler threw an object without a message' },
    { value: 'a plain string', message: 'a plain string' },
    { value: undefined, message: 'the handler threw undefined' },
    { value: null, message: 'the handler threw null' },
    { value: 42, message: 'the handler threw 42' },
    { value: Symbol('odd'), message: 'the handler threw Symbol(odd)' },
    { value: hostile, message: /the handler threw/ },
    { value: badMessage, message: 'the handler threw an Error without a message' },
  ];
}

/**
 * What Warren does after a handler fails, run through the real pipeline on each broker: retries,
 * dead letters, requeues, and the bounded path when a republish cannot succeed.
 */
export function deliveryPolicySpecs(ctx: ConformanceContext): void {
  describe('delivery policy (Warren on this broker)', () => {
    const apps: Warren[] = [];
    const logs: string[] = [];
    const settled: SettledEvent[] = [];
    let env: Record<string, string>;
    const logger: Logger = {
      debug() {}, info() {},
      warn: (message, fields) => logs.push(`${message} ${JSON.stringify(fields ?? {})}`),
      error: (message, fields) => logs.push(`${message} ${JSON.stringify(fields ?? {})}`),
    };

    async function start(handlers: Function[], extra: Partial<WarrenOptions> = {}): Promise<Warren> {
      const transport = await ctx.newTransport();
      const app = await Warren.start({ transport, handlers: handlers as never, env, logger, telemetry: false, onSettled: (e) => settled.push(e), ...extra });
      apps.push(app);
      for (const plan of app.consumers) {
        ctx.track({ queues: plan.topology.queues });
        ctx.track({ exchanges: [{ name: plan.exchange, type: 'direct' }, { name: plan.deadLetter.exchange, type: 'direct' }] });
      }
      return app;
    }

    /** Every message of a queue, taken and acknowledged, read through the app's own transport. */
    async function drain(transport: Transport, queue: string): Promise<Delivery[]> {
      const taken: Delivery[] = [];
      for (let m = await transport.get(queue); m; m = await transport.get(queue)) {
        await m.ack();
        taken.push(m);
      }
      return taken;
    }

    async function deadLetters(app: Warren, count: number, timeoutMs = 8000): Promise<Delivery[]> {
      const taken: Delivery[] = [];
      await eventually(async () => {
        taken.push(...await drain(app.transport, `${env.Q}.dlq`));
        if (taken.length < count) throw new Error(`${taken.length} of ${count} dead letters so far`);
      }, timeoutMs);
      return taken;
    }

    beforeEach(() => {
      env = { Q: ctx.name('policy'), EX: ctx.name('policy-ex') };
      seen.length = 0;
      logs.length = 0;
      settled.length = 0;
      behaviour = () => undefined;
    });

    afterEach(async () => {
      await Promise.allSettled(apps.splice(0).map((app) => Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 5000))])));
    });

    it('retries any thrown value as HANDLER_FAILED, then dead-letters it with reason headers', async () => {
      const odd = oddValues();
      behaviour = (payload) => { throw odd[payload.i as number]!.value; };
      const app = await start([PolicyHandlers]);
      for (let i = 0; i < odd.length; i++) await app.publish(env.EX!, 'work', { i });
      const dead = await deadLetters(app, odd.length);
      const byIndex = new Map(dead.map((d) => [JSON.parse(d.body.toString()).i as number, d.properties.headers!]));
      odd.forEach(({ message }, i) => {
        const headers = byIndex.get(i)!;
        expect(headers['x-warren-error-code'], `value ${i}`).to.equal('HANDLER_FAILED');
        if (typeof message === 'string') expect(headers['x-warren-error-message'], `value ${i}`).to.equal(message);
        else expect(headers['x-warren-error-message'], `value ${i}`).to.match(message);
        expect(headers['x-warren-attempts'], `value ${i}`).to.equal(2);
      });
      expect(seen).to.have.length(odd.length * 2);
      expect(settled.filter((e) => e.outcome === 'retried')).to.have.length(odd.length);
    });

    it('answers a request whose handler throws an odd value with a RemoteError', async () => {
      behaviour = () => { throw Object.create(null); };
      const app = await start([AnsweringHandlers], { publishers: [Questions] });
      const error = await rejectionOf(app.get(Questions).ask.request({ n: 1 }, { timeoutMs: 5000 }));
      expect(error).to.be.instanceOf(RemoteError);
      expect((error as RemoteError).remoteCode).to.equal('HANDLER_FAILED');
      expect(error.message).to.contain('the handler threw an object without a prototype');
    });

    it('copies no broker-owned or forged Warren header, records the origin from the delivery, and lets a forged attempt only shorten retries', async () => {
      behaviour = () => { throw new Error('still failing'); };
      const app = await start([PatientHandlers]);
      const forged: FieldTable = {
        tenant: 'acme',
        'x-death': ['junk'], 'x-first-death-reason': 'forged', 'x-last-death-queue': 'forged',
        'x-warren-original-exchange': 'admin.delete-everything', 'x-warren-original-routing-key': 'evil',
        'x-warren-error-details': 'forged details', 'x-warren-attempt': 3,
      };
      await app.publish(env.EX!, 'work', { forged: true }, { headers: forged });
      const [dead] = await deadLetters(app, 1);
      expect(seen.map((s) => s.attempt), 'a forged attempt 3 of 4 leaves two attempts').to.deep.equal([3, 4]);
      expect(seen.map((s) => [s.exchange, s.routingKey])).to.deep.equal([[env.EX, 'work'], [env.EX, 'work']]);
      const retriedDeaths = seen[1]!.headers['x-death'] as Array<Record<string, unknown>>;
      // 50 ms = 2^5 + 2^4 + 2^1: three levels of the cascade, then the retry hop.
      const path = [5, 4, 1].map((level) => delayLevelName('classic', level)).concat(`${env.Q}.retry`);
      expect(retriedDeaths.map((d) => d.queue).sort(), 'only the broker\'s own record of the cascade').to.deep.equal(path.sort());
      const headers = dead!.properties.headers!;
      expect(headers).to.include({
        tenant: 'acme', 'x-warren-error-code': 'HANDLER_FAILED', 'x-warren-attempts': 4,
        'x-warren-original-exchange': env.EX, 'x-warren-original-routing-key': 'work', 'x-warren-original-queue': env.Q,
      });
      for (const name of ['x-death', 'x-first-death-reason', 'x-last-death-queue', 'x-warren-error-details', 'x-warren-attempt']) expect(headers, name).not.to.have.property(name);
    });

    it('replays a dead letter to the queue that failed it, never to an exchange a header names', async () => {
      const app = await start([PolicyHandlers]);
      const trap = `${env.Q}.trap`;
      await app.transport.declare({ exchanges: [{ name: trap, type: 'fanout' }], queues: [{ name: trap }], bindings: [{ exchange: trap, queue: trap, routingKey: '' }] });
      ctx.track({ exchanges: [{ name: trap, type: 'fanout' }], queues: [{ name: trap }] });
      const letter = (id: string, extra: FieldTable) => app.transport.publish({
        exchange: '', routingKey: `${env.Q}.dlq`, body: Buffer.from(JSON.stringify({ id })),
        properties: { messageId: id, contentType: 'application/json', headers: { 'x-warren-error-code': 'HANDLER_FAILED', 'x-warren-original-exchange': trap, 'x-warren-original-routing-key': 'evil', ...extra } },
      });
      await letter('ours', {});
      await letter('elsewhere', { 'x-warren-original-queue': `${env.Q}.other` });
      const report = await replayDeadLetters(app.transport, `${env.Q}.dlq`);
      expect(report.replayed).to.equal(1);
      expect(report.failed.map((f) => f.messageId)).to.deep.equal(['elsewhere']);
      await eventually(async () => expect(seen.map((s) => s.payload.id)).to.deep.equal(['ours']), 5000);
      expect(seen[0]!.attempt).to.equal(1);
      expect([seen[0]!.exchange, seen[0]!.routingKey], 'the recorded origin stays a label for the handler').to.deep.equal([trap, 'evil']);
      expect(await drain(app.transport, trap), 'nothing reached the exchange the header named').to.have.length(0);
    });

    it('waits exactly the retryLater delay in the shared cascade (no queue per delay), and refuses invalid ones at the call', async () => {
      behaviour = (payload, c) => {
        if (c.attempt > 1) return undefined;
        return payload.kind === 'odd' ? retryLater(137) : retryLater(1.5);
      };
      const app = await start([PolicyHandlers]);
      await app.publish(env.EX!, 'work', { kind: 'odd' });
      await app.publish(env.EX!, 'work', { kind: 'fractional' });
      await eventually(async () => expect(seen.filter((s) => s.attempt === 2)).to.have.length(2), 8000);
      const retried = settled.filter((e) => e.outcome === 'retried');
      expect(retried.map((e) => [e.error?.code, e.delayMs]).sort()).to.deep.equal([['ACTION_RETRY', 137], ['INVALID_DELAY', 50]]);
      const second = seen.find((s) => s.attempt === 2 && s.payload.kind === 'odd')!;
      // 137 ms = 2^7 + 2^3 + 2^0: the message waited in those three levels, not in a queue of its own.
      expect((second.headers['x-death'] as Array<Record<string, unknown>>).map((d) => d.queue).sort()).to.deep.equal([7, 3, 0].map((level) => delayLevelName('classic', level)).concat(`${env.Q}.retry`).sort());
      for (const old of [`${env.Q}.retry.137`, `${env.Q}.retry.250`]) expect(await rejectionOf(app.transport.inspectQueue(old)), old).to.be.instanceOf(TopologyError);
    });

    it(`dead-letters a message requeued more than ${MAX_REQUEUES} times with REQUEUE_LIMIT, on every broker version`, async () => {
      behaviour = () => requeue('not yet');
      const app = await start([PolicyHandlers]);
      await app.publish(env.EX!, 'work', { again: true });
      const [dead] = await deadLetters(app, 1);
      expect(seen).to.have.length(MAX_REQUEUES + 1);
      expect(dead!.properties.headers).to.include({ 'x-warren-error-code': 'REQUEUE_LIMIT', 'x-warren-original-routing-key': 'work' });
      expect(settled.filter((e) => e.outcome === 'requeued')).to.have.length(MAX_REQUEUES);
    });

    it('rejects to the queue\'s own dead-letter exchange when a retry copy can never be published (frame too large), and keeps consuming', async () => {
      behaviour = (payload) => { if (payload.big) throw new Error('x'.repeat(900)); };
      const app = await start([PolicyHandlers]);
      // Headers that fit, until Warren's retry headers (with a long error message) are added.
      await app.publish(env.EX!, 'work', { big: true }, { headers: { pad: 'p'.repeat(131_072 - 900) } });
      const [dead] = await deadLetters(app, 1);
      expect(dead!.properties.headers).to.include({ 'x-first-death-reason': 'rejected', 'x-first-death-queue': env.Q });
      expect(dead!.properties.headers).not.to.have.property('x-warren-error-code');
      expect(seen).to.have.length(1);
      expect(logs.some((line) => line.startsWith('could not retry the message (the publish cannot succeed); rejecting it to the queue\'s dead-letter exchange')), logs.join('\n')).to.equal(true);
      await app.publish(env.EX!, 'work', { small: true });
      await eventually(async () => expect(seen).to.have.length(2), 5000);
    });

    it('re-declares a deleted dead-letter exchange once, then dead-letters with reason headers', async () => {
      // The handler waits for the publish's confirm: on RabbitMQ a publish to a missing exchange closes
      // the channel, and with it any publish still waiting there for its confirm.
      let published!: () => void;
      const confirmed = new Promise<void>((resolve) => { published = resolve; });
      behaviour = async () => { await confirmed; return reject('refused'); };
      const app = await start([PolicyHandlers]);
      await app.transport.deleteExchange(`${env.Q}.dlx`);
      await app.publish(env.EX!, 'work', { late: true });
      published();
      const [dead] = await deadLetters(app, 1);
      expect(dead!.properties.headers).to.include({ 'x-warren-error-code': 'REJECTED', 'x-warren-error-message': 'refused' });
      expect(logs.some((line) => line.startsWith('re-declared the dead-letter route')), logs.join('\n')).to.equal(true);
    });

    it('declares every queue with its type: a quorum app default makes retry and dead-letter queues quorum', async () => {
      const app = await start([PolicyHandlers], { queueType: 'quorum' });
      const plan = app.consumers[0]!;
      expect(plan.queueType).to.equal('quorum');
      const classic = { 'x-queue-type': 'classic' };
      for (const queue of [env.Q!, `${env.Q}.dlq`, `${env.Q}.retry`, delayLevelName('quorum', 5)]) {
        expect(await rejectionOf(app.transport.declare({ queues: [{ name: queue, arguments: classic }] })), queue).to.be.instanceOf(TopologyError);
      }
      await app.transport.declare({ queues: plan.topology.queues });
    });

    it('runs a transient consumer on an exclusive queue, which RabbitMQ 4.x accepts', async () => {
      const app = await start([TransientHandlers]);
      await app.publish(env.EX!, 'work', { transient: true });
      await eventually(async () => expect(seen).to.have.length(1), 5000);
    });
  });
}
