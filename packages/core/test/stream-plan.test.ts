import 'reflect-metadata';
import { expect } from 'chai';
import { Consumer } from '../src/decorators';
import { ConfigurationError, InvalidStreamOffsetError, QueueSettingsConflictError, WarrenError } from '../src/errors';
import { groupConsumers } from '../src/queue-groups';
import { getConsumers, type ConsumerDefinition } from '../src/metadata';
import { DEFAULT_CONSUMER_SETTINGS, planConsumer } from '../src/consumer-plan';
import type { ConsumerOptions } from '../src/options';
import { assertStreamOffsetArgument, parseStreamOffset, startArgument, streamOffsetOf } from '../src/stream-offset';
import { OrderCreated } from './fixtures/orders';

class Events {
  @Consumer('events', 'event', { queue: 'events.log' })
  async record(event: OrderCreated) { void event; }
}

const base: ConsumerDefinition = getConsumers(Events as never)[0]!;

/** Plans the fixture consumer with these options. */
function plan(options: ConsumerOptions) {
  return planConsumer({ ...base, options: { ...base.options, ...options } }, DEFAULT_CONSUMER_SETTINGS, {});
}

function refusal(options: ConsumerOptions): WarrenError {
  try {
    plan(options);
  } catch (error) {
    expect(error).to.be.instanceOf(WarrenError);
    return error as WarrenError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

describe('Stream consumer planning', () => {
  it('declares a durable stream with its retention arguments and nothing else', () => {
    const { topology, stream, queueType } = plan({ queueType: 'stream', maxAge: '7d', maxLengthBytes: 5_000_000, streamMaxSegmentSizeBytes: 1_000_000 });
    expect(queueType).to.equal('stream');
    expect(topology.queues![0]).to.deep.equal({
      name: 'events.log', durable: true, exclusive: false, autoDelete: false,
      arguments: { 'x-queue-type': 'stream', 'x-max-age': '7D', 'x-max-length-bytes': 5_000_000, 'x-stream-max-segment-size-bytes': 1_000_000 },
    });
    expect(stream).to.deep.equal({ start: { kind: 'next' }, offsetName: 'events.log:Events.record', commitEvery: 100, commitIntervalMs: 1000 });
  });

  it('takes offset, offsetName and offsetCommit', () => {
    const { stream } = plan({ queueType: 'stream', offset: '2h', offsetName: 'audit-v2', offsetCommit: { every: 10, intervalMs: 250 } });
    expect(stream).to.deep.equal({ start: { kind: 'since', seconds: 7200 }, offsetName: 'audit-v2', commitEvery: 10, commitIntervalMs: 250 });
  });

  it('refuses a malformed offset at start with InvalidStreamOffsetError', () => {
    for (const offset of [-1, 1.5, Number.NaN, '0s', '1w', '1.5h', 'yesterday', '', new Date(Date.now() + 60_000), new Date('nonsense'), null]) {
      const error = refusal({ queueType: 'stream', offset: offset as never });
      expect(error, String(offset)).to.be.instanceOf(InvalidStreamOffsetError);
      expect(error.code).to.equal('INVALID_STREAM_OFFSET');
      expect(error.message).to.match(/Events\.record: offset/);
    }
  });

  it('refuses what a stream cannot do, saying what to use instead', () => {
    const cases: Array<[ConsumerOptions, RegExp]> = [
      [{ batch: { size: 10 } }, /batch consumption is not available on streams/],
      [{ singleActiveConsumer: true }, /singleActiveConsumer is not available on streams/],
      [{ priority: 5 }, /consumer priority is not available on streams/],
      [{ exclusive: true }, /always durable, never exclusive/],
      [{ queueArguments: { 'x-dead-letter-exchange': 'dlx' } }, /x-dead-letter-exchange is refused by RabbitMQ on a stream/],
      [{ queueArguments: { 'x-message-ttl': 1000 } }, /use maxAge/],
      [{ maxAge: '1 day' as never }, /maxAge "1 day" is not a span/],
      [{ maxLengthBytes: 0 }, /maxLengthBytes must be a whole number of bytes/],
      [{ offsetCommit: { every: 0 } }, /offsetCommit.every/],
      [{ prefetch: 0 }, /RabbitMQ refuses a stream consumer without a prefetch/],
      [{ type: 'AccountOpened' }, /a type filter is not available on streams/],
    ];
    for (const [options, message] of cases) {
      const error = refusal({ queueType: 'stream', ...options });
      expect(error, JSON.stringify(options)).to.be.instanceOf(ConfigurationError);
      expect(error.message).to.match(message);
    }
  });

  it('refuses stream options on a classic or quorum consumer', () => {
    expect(refusal({ offset: 'first', maxAge: '1h' }).message).to.match(/offset, maxAge are options of stream consumers/);
    expect(refusal({ queueType: 'quorum', offsetName: 'x' }).message).to.match(/offsetName is an option of stream consumers/);
  });
});

describe('Single active consumer and priority planning', () => {
  it('declares x-single-active-consumer on the queue and on its redelivered queue', () => {
    const { topology, singleActiveConsumer } = plan({ singleActiveConsumer: true, queueType: 'quorum' });
    expect(singleActiveConsumer).to.equal(true);
    expect(topology.queues!.find((q) => q.name === 'events.log')!.arguments).to.include({ 'x-single-active-consumer': true, 'x-queue-type': 'quorum' });
    expect(topology.queues!.find((q) => q.name === 'events.log.redelivered')!.arguments).to.include({ 'x-single-active-consumer': true });
    expect(topology.queues!.find((q) => q.name === 'events.log.dlq')!.arguments).to.not.have.property('x-single-active-consumer');
  });

  it('refuses methods sharing one queue with different priorities (one subscription has one x-priority)', () => {
    class Shared {
      @Consumer('jobs', 'a', { queue: 'jobs.shared', priority: 5 })
      async a(job: OrderCreated) { void job; }

      @Consumer('jobs', 'b', { queue: 'jobs.shared', priority: 1 })
      async b(job: OrderCreated) { void job; }
    }
    const plans = getConsumers(Shared as never).map((d) => planConsumer(d, DEFAULT_CONSUMER_SETTINGS, {}));
    expect(() => groupConsumers(plans)).to.throw(QueueSettingsConflictError, /priority/);
  });

  it('keeps the priority for the consumer arguments and refuses one that is not a whole number in range', () => {
    expect(plan({ priority: 10 }).priority).to.equal(10);
    expect(plan({ priority: -3 }).priority).to.equal(-3);
    for (const priority of [1.5, 2_000_000, Number.NaN]) expect(refusal({ priority }).message).to.match(/priority must be a whole number/);
    expect(refusal({ singleActiveConsumer: true, exclusive: true, durable: false }).message).to.match(/singleActiveConsumer has no use on an exclusive queue/);
  });
});

describe('Stream offsets', () => {
  it('turns a Date into seconds back from now, rounded up, and a span into seconds', () => {
    const now = Date.now();
    expect(startArgument(parseStreamOffset(new Date(now - 90_500), 'x', now), now)).to.equal('91s');
    expect(startArgument(parseStreamOffset(new Date(now - 10), 'x', now), now)).to.equal('1s');
    expect(startArgument(parseStreamOffset('3d', 'x'))).to.equal('259200s');
    expect(startArgument(parseStreamOffset(42, 'x'))).to.equal(42);
    expect(startArgument(parseStreamOffset('first', 'x'))).to.equal('first');
  });

  it('checks x-stream-offset consumer arguments as RabbitMQ takes them, refusing the ones that would close the connection', () => {
    for (const value of ['first', 'last', 'next', 0, 17, '30s', '7D', '1Y', '2M']) expect(() => assertStreamOffsetArgument({ 'x-stream-offset': value }, 'q'), String(value)).to.not.throw();
    for (const value of ['xs', '0s', '1d', '-5s', -1, 1.5, null, {}, new Date()]) expect(() => assertStreamOffsetArgument({ 'x-stream-offset': value }, 'q'), String(value)).to.throw(InvalidStreamOffsetError);
    expect(() => assertStreamOffsetArgument({ 'x-priority': 5 }, 'q')).to.not.throw();
  });

  it('reads a delivery\'s offset only from a whole number from 0 to 2^53 - 1', () => {
    expect(streamOffsetOf({ 'x-stream-offset': 0 })).to.equal(0);
    expect(streamOffsetOf({ 'x-stream-offset': 12n })).to.equal(12);
    for (const value of [-1, 1.5, '3', 2 ** 60, 2n ** 60n, null, undefined, Number.NaN]) expect(streamOffsetOf({ 'x-stream-offset': value }), String(value)).to.equal(undefined);
    expect(streamOffsetOf(undefined)).to.equal(undefined);
    expect(streamOffsetOf(Object.create({ 'x-stream-offset': 5 }))).to.equal(undefined);
  });
});
