import { AmqpTransport, type FieldTable } from '@warren/core';
import { expect } from 'chai';
import { deadLetterFilter, discardDeadLetters, listDeadLetters, replayDeadLetters } from '@warren/core';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { runWarren } from './support/cli';
import { afterCleanup } from './support/cleanup';

describeWithBroker('warren dlq', function () {
  this.timeout(20_000);
  const prefix = uniqueName('dlq');
  const exchange = `${prefix}.events`;
  const target = `${prefix}.target`;
  const dlq = `${prefix}.target.dlq`;
  const expiring = `${prefix}.expiring`;
  let transport: AmqpTransport;

  const deadLetter = (messageId: string, code: string, routingKey: string) =>
    transport.publish({
      exchange: '', routingKey: dlq, body: Buffer.from(JSON.stringify({ id: messageId })),
      properties: {
        messageId, contentType: 'application/json', deliveryMode: 2,
        headers: { 'x-warren-error-code': code, 'x-warren-error-message': `${code} for ${messageId}`, 'x-warren-attempts': 3, 'x-warren-original-exchange': exchange, 'x-warren-original-routing-key': routingKey, 'x-tenant': 'acme' } as FieldTable,
      },
    });

  const drain = async (queue: string) => {
    const messages: Array<{ id?: string; headers: FieldTable; routingKey: string }> = [];
    for (let m = await transport.get(queue); m; m = await transport.get(queue)) {
      messages.push({ id: m.properties.messageId, headers: m.properties.headers ?? {}, routingKey: m.routingKey });
      await m.ack();
    }
    return messages;
  };

  before(async () => {
    transport = new AmqpTransport({ url: AMQP_URL });
    await transport.connect();
    await transport.declare({
      exchanges: [{ name: exchange, type: 'direct' }],
      queues: [
        { name: target }, { name: dlq },
        // Expires its messages at once into the DLQ: the broker's own x-death header then names the origin.
        { name: expiring, arguments: { 'x-message-ttl': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } },
      ],
      bindings: [
        { exchange, queue: target, routingKey: 'order.created' },
        { exchange, queue: target, routingKey: 'order.paid' },
        { exchange, queue: expiring, routingKey: 'order.expired' },
        { exchange, queue: target, routingKey: 'order.expired' },
      ],
    });
  });

  beforeEach(async () => {
    await transport.purgeQueue(target);
    await transport.purgeQueue(dlq);
    await deadLetter('m1', 'VALIDATION_FAILED', 'order.created');
    await deadLetter('m2', 'HANDLER_FAILED', 'order.paid');
    await deadLetter('m3', 'HANDLER_FAILED', 'order.created');
    await transport.publish({ exchange, routingKey: 'order.expired', body: Buffer.from('{}'), properties: { messageId: 'm4', contentType: 'application/json' } });
    for (let i = 0; (await transport.inspectQueue(dlq)).messageCount < 4; i++) {
      if (i > 200) throw new Error('the expired message never reached the DLQ');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The expired copy also reached the target queue directly; start from an empty target.
    await transport.purgeQueue(target);
  });

  afterCleanup('delete the DLQ fixtures', async () => {
    if (!transport) return; // skipped: no broker
    for (const queue of [target, dlq, expiring]) await transport.deleteQueue(queue).catch(() => undefined);
    await transport.deleteExchange(exchange).catch(() => undefined);
    await transport.close();
  });

  it('lists messages with error code, origin and attempts, and leaves them in place', async () => {
    const result = await runWarren(['dlq', 'list', dlq, '--url', AMQP_URL]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`m1  VALIDATION_FAILED  ${exchange} / order.created  attempts: 3\n    VALIDATION_FAILED for m1`);
    expect(result.stdout).to.contain(`m4  -  ${exchange} / order.expired  attempts: -`);
    expect(result.stdout).not.to.contain(':guest@');
    expect((await transport.inspectQueue(dlq)).messageCount).to.equal(4);
    expect((await listDeadLetters(transport, dlq)).map((l) => l.messageId)).to.deep.equal(['m1', 'm2', 'm3', 'm4']);
  });

  it('shows one message with its headers and body', async () => {
    const result = await runWarren(['dlq', 'show', dlq, 'm2', '--url', AMQP_URL]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('message id:   m2\nerror:        HANDLER_FAILED: HANDLER_FAILED for m2');
    expect(result.stdout).to.contain('  x-tenant: "acme"');
    expect(result.stdout).to.contain('body (11 bytes):\n{\n  "id": "m2"\n}');
  });

  it('replays only the messages matching the filter, back to the queue that failed them, and keeps the others in order', async () => {
    const result = await runWarren(['dlq', 'replay', dlq, '--filter', 'HANDLER_FAILED', '--url', AMQP_URL]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('replayed 2 message(s)');
    const arrived = await drain(target);
    // Through the default exchange, addressed to the queue: never to the exchange the header names.
    expect(arrived.map((m) => [m.id, m.routingKey])).to.deep.equal([['m2', target], ['m3', target]]);
    expect(arrived[0]!.headers).to.deep.equal({ 'x-tenant': 'acme', 'x-warren-replayed': 1, 'x-warren-original-exchange': exchange, 'x-warren-original-routing-key': 'order.paid' });
    expect((await listDeadLetters(transport, dlq)).map((l) => l.messageId)).to.deep.equal(['m1', 'm4']);
  });

  it('replays up to --limit messages, and leaves a message the broker dead-lettered from another queue', async () => {
    const first = await replayDeadLetters(transport, dlq, { limit: 1 });
    expect(first).to.deep.equal({ replayed: 1, skipped: 0, failed: [] });
    const rest = await replayDeadLetters(transport, dlq, { filter: deadLetterFilter('order.expired') });
    expect(rest.replayed).to.equal(0);
    expect(rest.failed.map((f) => f.messageId)).to.deep.equal(['m4']);
    expect(rest.failed[0]!.reason).to.contain(`failed in queue "${expiring}"`);
    expect((await drain(target)).map((m) => [m.id, m.routingKey])).to.deep.equal([['m1', target]]);
    expect((await listDeadLetters(transport, dlq)).map((l) => l.messageId)).to.deep.equal(['m2', 'm3', 'm4']);
  });

  it('discards only the matching messages, for good, and keeps the others in order', async () => {
    const report = await discardDeadLetters(transport, dlq, { filter: deadLetterFilter('HANDLER_FAILED') });
    expect(report).to.deep.equal({ discarded: 2, skipped: 2 });
    expect((await listDeadLetters(transport, dlq)).map((l) => l.messageId)).to.deep.equal(['m1', 'm4']);
    expect(await drain(target)).to.deep.equal([]);
    expect(await discardDeadLetters(transport, dlq, { limit: 1 })).to.deep.equal({ discarded: 1, skipped: 0 });
    expect((await listDeadLetters(transport, dlq)).map((l) => l.messageId)).to.deep.equal(['m4']);
  });

  it('leaves a message whose queue is gone in the DLQ and exits 1', async () => {
    await transport.purgeQueue(dlq);
    await deadLetter('m5', 'HANDLER_FAILED', 'order.created');
    const result = await runWarren(['dlq', 'replay', dlq, '--queue', `${prefix}.gone`, '--url', AMQP_URL]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('not replayed m5');
    expect((await transport.inspectQueue(dlq)).messageCount).to.equal(1);
  });

  it('says which queue it reads', async () => {
    const result = await runWarren(['dlq', 'list', dlq, '--url', AMQP_URL]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.contain(`reading queue ${dlq} on amqp://`);
  });

  it('answers a missing queue with a hint (not the broker\'s redeclaration advice), and a consumer queue with a note naming its .dlq', async () => {
    const missing = await runWarren(['dlq', 'list', `${prefix}.nothing.dlq`, '--url', AMQP_URL]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain(`No queue ${prefix}.nothing.dlq`);
    expect(missing.stderr).to.contain('"<its queue>.dlq"');
    expect(missing.stderr).not.to.contain('must be deleted');
    const consumerQueue = await runWarren(['dlq', 'list', target, '--url', AMQP_URL]);
    expect(consumerQueue.code, consumerQueue.stderr).to.equal(0);
    expect(consumerQueue.stderr).to.contain(`its dead letters are in ${dlq}`);
  });

  it('exits 2 without a broker URL', async () => {
    const result = await runWarren(['dlq', 'list', dlq]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('No broker URL: pass --url');
  });
});
