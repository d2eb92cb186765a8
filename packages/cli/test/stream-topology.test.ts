import { Parser } from '@asyncapi/parser';
import { AmqpTransport } from '@warren/core';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadService } from '../src/service-loader';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { fixture, runWarren } from './support/cli';
import { afterCleanup } from './support/cleanup';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('warren topology and asyncapi for streams, single active consumer and priority', function () {
  this.timeout(30_000);
  const env = { STREAM_PREFIX: 'shop' };

  it('shows a stream\'s type, retention and start, and a queue\'s single active consumer and consumer priority', async () => {
    const result = await runWarren(['topology', fixture('stream-service')], { env });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('audit.# → shop.audit  (AuditLog.record)  [stream, max age 7D, max 1000000000 bytes, reads from first, offset stored as shop.audit:AuditLog.record]');
    expect(result.stdout).to.contain('job.created → shop.jobs  (Jobs.run)  [quorum, dead letters → warren.dead-letter / shop.jobs, single active consumer, consumer priority 5]');
    expect(result.stdout).to.match(/shop\.audit\.dlq .*\[quorum\]/);
  });

  it('lists the stream without dead-letter arguments in --print definitions', async () => {
    const result = await runWarren(['topology', fixture('stream-service'), '--print'], { env });
    const definitions = JSON.parse(result.stdout) as { queues: Array<{ name: string; arguments: Record<string, unknown> }> };
    expect(definitions.queues.find((q) => q.name === 'shop.audit')!.arguments).to.deep.equal({ 'x-queue-type': 'stream', 'x-max-age': '7D', 'x-max-length-bytes': 1_000_000_000 });
    expect(definitions.queues.find((q) => q.name === 'shop.jobs')!.arguments).to.include({ 'x-single-active-consumer': true });
  });

  it('describes them in a valid AsyncAPI document: x-warren-queue on the channel, x-warren-consumer on the operation', async () => {
    const result = await runWarren(['asyncapi', fixture('stream-service')], { env });
    expect(result.code, result.stderr).to.equal(0);
    const { diagnostics } = await new Parser().parse(result.stdout);
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('/')}: ${d.message}`)).to.deep.equal([]);
    const doc = parse(result.stdout) as Doc;
    expect(doc.channels['queue.shop.audit']['x-warren-queue']).to.deep.equal({ type: 'stream', retention: { maxAge: '7D', maxLengthBytes: 1_000_000_000 } });
    expect(doc.channels['queue.shop.jobs']['x-warren-queue']).to.deep.equal({ type: 'quorum', singleActiveConsumer: true });
    expect(doc.operations['AuditLog.record']['x-warren-consumer']).to.deep.equal({ offset: 'first', offsetName: 'shop.audit:AuditLog.record', offsetCommit: { every: 100, intervalMs: 1000 } });
    expect(doc.operations['Jobs.run']['x-warren-consumer']).to.deep.equal({ priority: 5 });
  });

  describeWithBroker('--check', () => {
    const prefix = uniqueName('stream-check');
    let transport: AmqpTransport;

    before(async () => {
      transport = new AmqpTransport({ url: AMQP_URL });
      await transport.connect();
      const service = loadService([fixture('stream-service')], { env: { STREAM_PREFIX: prefix } });
      const audit = service.consumers.find((c) => c.id === 'AuditLog.record')!;
      const jobs = service.consumers.find((c) => c.id === 'Jobs.run')!;
      // The stream exists with other retention, the jobs queue without single active consumer: deploys would be refused.
      await transport.declare({ queues: [{ name: audit.queue, durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': '1D' } }] });
      const jobQueue = jobs.topology.queues!.find((q) => q.name === jobs.queue)!;
      const { 'x-single-active-consumer': _sac, ...withoutSac } = jobQueue.arguments!;
      await transport.declare({ queues: [{ ...jobQueue, arguments: withoutSac }] });
    });

    afterCleanup('delete the checked queues', async () => {
      if (!transport) return;
      for (const queue of ['audit', 'audit.dlq', 'jobs', 'jobs.dlq', 'jobs.redelivered']) await transport.deleteQueue(`${prefix}.${queue}`).catch(() => undefined);
      await transport.close();
    });

    it('reports a stream with other retention and a queue without single active consumer as differing', async () => {
      const result = await runWarren(['topology', fixture('stream-service'), '--check', AMQP_URL], { env: { STREAM_PREFIX: prefix } });
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stdout).to.match(new RegExp(`✗ ${prefix.replace(/\./g, '\\.')}\\.audit: arguments differ — .*x-max-(age|length-bytes)`));
      expect(result.stdout).to.match(new RegExp(`✗ ${prefix.replace(/\./g, '\\.')}\\.jobs: arguments differ — .*x-single-active-consumer`));
    });
  });
});
