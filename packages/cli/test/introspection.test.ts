import { expect } from 'chai';
import * as path from 'node:path';
import { parse } from 'yaml';
import { fixture, runWarren } from './support/cli';

describe('the CLI never runs the service it reads', function () {
  this.timeout(60_000);

  it('asyncapi loads a main.js that calls Warren.run: documents what it passes, connects to nothing, sends nothing, exits 0', async () => {
    const result = await runWarren(['asyncapi', fixture('starting-service'), '--format', 'json'], { env: { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1/' } });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).not.to.contain('SERVICE STARTED');
    expect(result.stdout).not.to.contain('MESSAGE SENT');
    expect(result.stderr).not.to.contain('SERVICE FAILED');
    const document = JSON.parse(result.stdout) as { operations: Record<string, { action: string }> };
    expect(Object.values(document.operations).map((o) => o.action).sort()).to.deep.equal(['receive', 'send']);
  });

  it('topology and a glob over every compiled module do the same', async () => {
    const result = await runWarren(['topology', path.join(path.dirname(fixture('starting-service')), 'starting-*.js')]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('starting.parcel-shipped');
    expect(result.stdout).not.to.contain('SERVICE STARTED');
  });

  it('finds a publisher that a handler receives through tsyringe\'s @inject, though its module does not export it', async () => {
    const result = await runWarren(['topology', fixture('injecting-service')]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('injecting.parcels');
  });

  it('topology --check without a URL and without AMQP_URL says how to give one (exit 2)', async () => {
    const result = await runWarren(['topology', fixture('starting-service'), '--check']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--check needs a broker: pass --check amqp://');
    expect(result.stderr).to.contain('or set AMQP_URL');
  });

  it('topology --check without a URL uses AMQP_URL', async () => {
    const result = await runWarren(['topology', fixture('starting-service'), '--check'], { env: { AMQP_URL: 'amqp://someone:hunter2@127.0.0.1:1/' } });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/^warren: Could not connect to amqp:\/\/(\*\*\*@)?127\.0\.0\.1:1\//);
    expect(result.stderr).not.to.contain('hunter2');
  });

  it('yaml output of asyncapi is complete when piped (the process exits only after stdout is flushed)', async () => {
    const result = await runWarren(['asyncapi', fixture('starting-service')]);
    expect(result.code, result.stderr).to.equal(0);
    expect(parse(result.stdout)).to.have.property('asyncapi', '3.0.0');
  });
});
