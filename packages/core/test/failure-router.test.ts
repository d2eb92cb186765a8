import 'reflect-metadata';
import { expect } from 'chai';
import { retryLater } from '../src/actions';
import { planConsumer, DEFAULT_CONSUMER_SETTINGS, type ConsumerPlan } from '../src/consumer-plan';
import { MessageContext } from '../src/context';
import { Consumer } from '../src/decorators';
import { HandlerError, PublishError, PublishTimeoutError } from '../src/errors';
import type { Logger } from '../src/logger';
import { getConsumers } from '../src/metadata';
import { delayCascadeTopology, delayedAddress, delayLevelName } from '../src/delay-cascade';
import { FailureRouter, MAX_FAILED_REPUBLISHES } from '../src/outcome';
import { deathHeaderProblem } from '../src/safe-reject';
import { MemoryTransport } from '../src/transports/memory/transport';
import type { Delivery, OutgoingMessage, PublishOptions, Transport } from '../src/transport';

class Work {
  @Consumer('work', 'w', { queue: 'work', message: Object, retry: { attempts: 3, delay: 100 } })
  async on(payload: object) { void payload; }
}

/** The in-memory broker, with publishes that fail as a test says (the Transport seam, nothing patched). */
class FlakyPublishes extends MemoryTransport {
  fail: ((message: OutgoingMessage) => Error | undefined) | undefined;

  override async publish(message: OutgoingMessage, options?: PublishOptions): Promise<void> {
    const error = this.fail?.(message);
    if (error) throw error;
    return super.publish(message, options);
  }
}

describe('FailureRouter (when a retry or dead-letter publish fails)', () => {
  let transport: FlakyPublishes;
  let plan: ConsumerPlan;
  let router: FailureRouter;
  const lines: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) };

  const delivery = (messageId = 'm-1'): Delivery => ({ body: Buffer.from('{}'), properties: { messageId, headers: { tenant: 'acme' } }, exchange: 'work', routingKey: 'w', queue: 'work', redelivered: false });
  const retry = (d: Delivery) => router.apply(plan, d, new MessageContext(d, 1), { kind: 'retry', delayMs: 100, error: new HandlerError('boom') });

  beforeEach(async () => {
    lines.length = 0;
    transport = new FlakyPublishes();
    await transport.connect();
    plan = planConsumer(getConsumers(Work)[0]!, DEFAULT_CONSUMER_SETTINGS, {});
    await transport.declare(plan.topology);
    await transport.declare(delayCascadeTopology('classic'));
    router = new FailureRouter(transport as Transport, logger, 0);
  });

  afterEach(() => transport.close());

  it(`requeues a message whose retry publish times out at most ${MAX_FAILED_REPUBLISHES} times, then rejects it with a log line`, async () => {
    transport.fail = (m) => new PublishTimeoutError(m.exchange, m.routingKey, 10);
    const settlements = [];
    for (let i = 0; i <= MAX_FAILED_REPUBLISHES; i++) settlements.push(await retry(delivery()));
    expect(settlements).to.deep.equal([...Array(MAX_FAILED_REPUBLISHES).fill('requeue'), 'reject']);
    expect(lines.at(-1)).to.equal(`could not retry the message (after ${MAX_FAILED_REPUBLISHES} requeues); rejecting it to the queue's dead-letter exchange, without Warren's reason headers`);
  });

  it('counts each message on its own, and starts again once a republish succeeds', async () => {
    transport.fail = (m) => new PublishTimeoutError(m.exchange, m.routingKey, 10);
    for (let i = 0; i < MAX_FAILED_REPUBLISHES; i++) await retry(delivery('a'));
    expect(await retry(delivery('b'))).to.equal('requeue');
    transport.fail = undefined;
    expect(await retry(delivery('a'))).to.equal('ack');
    transport.fail = (m) => new PublishTimeoutError(m.exchange, m.routingKey, 10);
    expect(await retry(delivery('a'))).to.equal('requeue');
  });

  it('rejects at once when the publish can never succeed (CODEC: frame too large)', async () => {
    transport.fail = (m) => new PublishError(`Publishing to exchange "${m.exchange}" failed (CODEC): frame size of 131100 bytes exceeds maximum of 131072`);
    expect(await retry(delivery())).to.equal('reject');
    expect(lines).to.deep.equal(['could not retry the message (the publish cannot succeed); rejecting it to the queue\'s dead-letter exchange, without Warren\'s reason headers']);
  });

  it('never sends a copy whose headers would not fit in one frame, and rejects the original', async () => {
    const sent: OutgoingMessage[] = [];
    transport.fail = (m) => { sent.push(m); return undefined; };
    const d = { ...delivery(), properties: { messageId: 'big', headers: { pad: 'p'.repeat(131_072 - 200) } } };
    expect(await retry(d)).to.equal('reject');
    expect(sent).to.deep.equal([]);
  });

  it('sends a retry into the delay cascade, addressed to the consumer\'s retry hop', async () => {
    const sent: OutgoingMessage[] = [];
    transport.fail = (m) => { sent.push(m); return undefined; };
    expect(await retry(delivery())).to.equal('ack');
    expect(sent.map((m) => [m.exchange, m.routingKey])).to.deep.equal([[delayedAddress(100, plan.retryHop!).exchange, delayedAddress(100, plan.retryHop!).routingKey]]);
    expect(sent[0]!.properties.headers).to.include({ tenant: 'acme', 'x-warren-attempt': 2, 'x-warren-error-code': 'HANDLER_FAILED' });
  });

  it('re-declares a deleted cascade exchange once, then sends the retry through it', async () => {
    // 100 ms = 2^6 + 2^5 + 2^2: the retry enters the cascade at level 6.
    await transport.deleteExchange(delayLevelName('classic', 6));
    expect(await retry(delivery())).to.equal('ack');
    expect((await transport.inspectQueue(delayLevelName('classic', 6))).messageCount).to.equal(1);
    expect(lines[0]).to.equal('re-declared the delay cascade after a publish found it missing');
  });

  it('rejects after one re-declaration that did not help (NOT_FOUND again)', async () => {
    transport.fail = (m) => (m.exchange === 'warren.dead-letter' ? new PublishError('Publishing to exchange "warren.dead-letter" failed (NOT_FOUND): no exchange') : undefined);
    const d = delivery();
    expect(await router.apply(plan, d, new MessageContext(d, 3), { kind: 'dead-letter', error: new HandlerError('boom') })).to.equal('reject');
    expect(lines).to.have.length(2);
    expect(lines[1]).to.contain('could not dead-letter the message (the publish cannot succeed)');
  });

  it('waits any delay the policy never named in the same cascade, declaring nothing more', async () => {
    const d = delivery();
    const outcome = { kind: 'retry' as const, delayMs: 137, error: retryLater(137) };
    expect(await router.apply(plan, d, new MessageContext(d, 1), outcome)).to.equal('ack');
    expect(await router.apply(plan, d, new MessageContext(d, 1), outcome)).to.equal('ack');
    // 137 ms = 2^7 + 2^3 + 2^0: both wait in level 7 first.
    expect((await transport.inspectQueue(delayLevelName('classic', 7))).messageCount).to.equal(2);
    expect(await transport.inspectQueue('work.retry.137').then(() => 'declared', () => 'not declared')).to.equal('not declared');
  });
  it('never rejects a message with a malformed x-death: when the copy without it cannot be dead-lettered either, it requeues', async () => {
    transport.fail = (m) => new PublishError(`Publishing to exchange "${m.exchange}" failed (CODEC): frame size of 131100 bytes exceeds maximum of 131072`);
    const d = { ...delivery(), properties: { messageId: 'forged', headers: { 'x-death': ['junk'] } } };
    expect(await retry(d)).to.equal('requeue');
    expect(lines.at(-1)).to.match(/^could not retry the message \(the publish cannot succeed\); its x-death header is malformed and a copy without it could not be dead-lettered either: requeueing it \(never rejected\)$/);
  });
});

describe('deathHeaderProblem (may the broker dead-letter this message itself?)', () => {
  const problem = (death: unknown) => deathHeaderProblem(death === undefined ? {} : { 'x-death': death as never }, 'work');

  it('accepts no x-death, and x-death entries as RabbitMQ writes them', () => {
    expect(problem(undefined)).to.equal(undefined);
    expect(problem([])).to.equal(undefined);
    expect(problem([{ count: 2, reason: 'expired', queue: 'work.retry.100', time: new Date(), exchange: '', 'routing-keys': ['work'] }, { count: 1, reason: 'rejected', queue: 'other' }])).to.equal(undefined);
  });

  it('refuses what RabbitMQ 3.10 crashes on or cannot encode, and anything else that is not an array of tables', () => {
    const refused: Array<[unknown, RegExp]> = [
      ['junk', /x-death is a string/],
      [{ queue: 'x' }, /x-death is a table/],
      [['junk'], /x-death\[0\] is a string, not a table/],
      [[{ queue: 'a', reason: 'expired' }, 7], /x-death\[1\] is the number 7/],
      [[{ queue: 'a', reason: 'expired', count: 'x' }], /count is a string/],
      [[{ queue: 'a', reason: 'expired', count: 1.5 }], /count is the number 1.5/],
      [[{ queue: 'a', reason: 'expired', count: -1 }], /count is the number -1/],
      [[{ queue: 'a', reason: 'expired', count: 9223372036854775807n }], /count is the integer 9223372036854775807/],
      [[{ queue: 42, reason: 'expired' }], /queue is the number 42/],
      [[{ queue: 'a', reason: 'expired', 'routing-keys': 'k' }], /routing-keys is a string/],
      [[{ queue: 'work', reason: 'rejected', count: 1 }], /entry for this queue with reason "rejected"/],
    ];
    for (const [death, why] of refused) expect(problem(death), JSON.stringify(death, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).to.match(why);
  });
});
