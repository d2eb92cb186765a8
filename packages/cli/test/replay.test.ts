import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AmqpTransport } from '@warren/core';
import { expect } from 'chai';
import { parseSince } from '../src/commands/replay';
import { loadService } from '../src/service-loader';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { fixture, runWarren } from './support/cli';
import { afterCleanup } from './support/cleanup';

describe('warren replay --since', () => {
  it('reads an offset, a span back from now, first, or an ISO 8601 time', () => {
    expect(parseSince('1042')).to.equal(1042);
    expect(parseSince('2h')).to.equal('2h');
    expect(parseSince('first')).to.equal('first');
    expect((parseSince('2024-05-01T12:00:00Z') as Date).toISOString()).to.equal('2024-05-01T12:00:00.000Z');
    for (const bad of ['yesterday', '-5', '1.5', '2024-13-45', '2w']) expect(() => parseSince(bad), bad).to.throw(/--since/);
  });
});

describeWithBroker('warren replay', function () {
  this.timeout(60_000);
  const prefix = uniqueName('replay');
  const env = { STREAM_PREFIX: prefix };
  const dir = mkdtempSync(path.join(tmpdir(), 'warren-replay-'));
  const log = path.join(dir, 'audit.jsonl');
  let transport: AmqpTransport;

  const handled = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: string; offset: number });
  const replay = (...args: string[]) => runWarren(['replay', 'AuditLog.record', fixture('stream-service'), '--url', AMQP_URL, '--idle-ms', '1500', ...args], { env: { ...env, REPLAY_LOG: log } });

  before(async () => {
    transport = new AmqpTransport({ url: AMQP_URL });
    await transport.connect();
    const service = loadService([fixture('stream-service')], { env });
    for (const plan of service.consumers) await transport.declare(plan.topology);
    for (const id of ['a0', 'a1', 'bad2', 'a3']) {
      await transport.publish({ exchange: `${prefix}.events`, routingKey: 'audit.recorded', body: Buffer.from(JSON.stringify({ id })), properties: { contentType: 'application/json', messageId: id } });
    }
  });

  afterCleanup('delete the stream and queues', async () => {
    rmSync(dir, { recursive: true, force: true });
    if (!transport) return;
    for (const queue of ['audit', 'audit.dlq', 'jobs', 'jobs.dlq', 'jobs.redelivered']) await transport.deleteQueue(`${prefix}.${queue}`).catch(() => undefined);
    for (const exchange of [`${prefix}.events`, `${prefix}.gone.events`]) await transport.deleteExchange(exchange).catch(() => undefined);
    await transport.close();
  });

  it('runs the consumer\'s handler, from the service\'s own container, over the stream from --since; exits 1 for what it dead-lettered', async () => {
    writeFileSync(log, '');
    const result = await replay('--since', 'first');
    expect(result.code, result.stderr).to.equal(1);
    expect(handled().map((h) => h.id)).to.deep.equal(['a0', 'a1', 'a3']);
    expect(result.stdout).to.match(/replayed 4 message\(s\) of .*\.audit through AuditLog\.record \(offsets \d+…\d+\): 3 handled, 1 dead-lettered; stopped: nothing more arrived\./);
    expect(result.stderr).to.match(/replaying AuditLog\.record .* on amqp:\/\/(\*\*\*@)?127\.0\.0\.1:\d+/);
    expect(result.stderr).not.to.contain('guest:guest');
    const letter = await transport.get(`${prefix}.audit.dlq`);
    await letter?.ack();
    expect(letter?.properties.headers).to.include({ 'x-warren-error-code': 'HANDLER_FAILED', 'x-warren-original-queue': `${prefix}.audit` });
  });

  it('starts at an offset and stops after --until', async () => {
    writeFileSync(log, '');
    await replay('--since', 'first');
    const offsets = handled().map((h) => h.offset);
    writeFileSync(log, '');
    const result = await replay('--since', String(offsets[1]), '--until', String(offsets[1]));
    expect(result.code, result.stderr).to.equal(0);
    expect(handled().map((h) => h.id)).to.deep.equal(['a1']);
    expect(result.stdout).to.contain(`stopped: reached offset ${offsets[1]}`);
  });

  it('refuses a consumer that does not read a stream, or that the service does not have, with exit code 2', async () => {
    const notStream = await runWarren(['replay', 'Jobs.run', fixture('stream-service'), '--since', 'first', '--url', AMQP_URL], { env });
    expect(notStream.code).to.equal(2);
    expect(notStream.stderr).to.match(/Jobs\.run consumes a quorum queue, not a stream: only streams can be replayed \(stream consumers: AuditLog\.record\)/);
    const unknown = await runWarren(['replay', 'Nope.nothing', fixture('stream-service'), '--since', 'first', '--url', AMQP_URL], { env });
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/No consumer Nope\.nothing .* Its stream consumers: AuditLog\.record/);
    const missing = await runWarren(['replay', 'AuditLog.record', fixture('stream-service'), '--since', 'first', '--url', AMQP_URL], { env: { STREAM_PREFIX: `${prefix}.gone` } });
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/The stream ".*\.gone\.audit" of AuditLog\.record does not exist/);
    const badSince = await runWarren(['replay', 'AuditLog.record', fixture('stream-service'), '--since', 'yesterday', '--url', AMQP_URL], { env });
    expect(badSince.code).to.equal(2);
  });
});
