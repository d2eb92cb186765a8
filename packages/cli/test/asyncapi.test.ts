import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Parser } from '@asyncapi/parser';
import { expect } from 'chai';
import { parse } from 'yaml';
import { fixture, runWarren } from './support/cli';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const parser = new Parser();

/** Parses a document with the official AsyncAPI parser and returns its error messages. */
async function parserErrors(text: string): Promise<string[]> {
  const { diagnostics } = await parser.parse(text);
  // DiagnosticSeverity.Error is 0; warnings and hints do not make a document invalid.
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('/')}: ${d.message}`);
}

describe('warren asyncapi', function () {
  this.timeout(30_000);
  let serviceYaml: string;
  let service: Doc;

  before(async () => {
    const result = await runWarren(['asyncapi', fixture('orders-service'), '--url', 'amqps://billing:s3cr3t@mq.example.com:5671/shop', '--title', 'billing', '--app-version', '1.2.3']);
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
    serviceYaml = result.stdout;
    service = parse(serviceYaml) as Doc;
  });

  it('emits a document the AsyncAPI parser accepts', async () => {
    expect(service.asyncapi).to.equal('3.0.0');
    expect(await parserErrors(serviceYaml)).to.deep.equal([]);
  });

  it('emits a valid document for the DTO zoo, whose payloads use the decorators users use', async () => {
    const result = await runWarren(['asyncapi', fixture('dto-zoo')]);
    expect(result.code).to.equal(0);
    expect(await parserErrors(result.stdout)).to.deep.equal([]);
  });

  it('emits a valid document for the example orders service', async function () {
    const handlers = path.resolve(__dirname, '../../../../examples/orders-service/dist/src/handlers.js');
    if (!existsSync(handlers)) this.skip();
    const result = await runWarren(['asyncapi', handlers]);
    expect(result.code, result.stderr).to.equal(0);
    expect(await parserErrors(result.stdout)).to.deep.equal([]);
    const doc = parse(result.stdout) as Doc;
    expect(doc.info.title).to.equal('@warren/example-orders-service');
    expect((Object.values(doc.operations) as Doc[]).map((o) => o.action).sort()).to.deep.equal(['receive', 'receive', 'send', 'send']);
  });

  it('takes info from the options, servers from the URL, and never writes the password', () => {
    expect(service.info).to.deep.equal({ title: 'billing', version: '1.2.3', description: service.info.description });
    expect(service.servers).to.deep.equal({
      rabbitmq: { host: 'mq.example.com:5671', pathname: '/shop', protocol: 'amqps', protocolVersion: '0.9.1', description: 'RabbitMQ at amqps://mq.example.com:5671/shop' },
    });
    expect(serviceYaml).not.to.contain('s3cr3t');
  });

  it('describes each publisher route as a send operation on an exchange + routing key channel', () => {
    const operation = service.operations['OrderEvents.created'];
    expect(operation.action).to.equal('send');
    expect(operation.bindings.amqp).to.include({ deliveryMode: 2, mandatory: true });
    const channel = service.channels[operation.channel.$ref.split('/').pop()];
    expect(channel.address).to.equal('order.created');
    expect(channel.bindings.amqp).to.deep.equal({
      is: 'routingKey',
      exchange: { name: 'shop.orders', type: 'direct', durable: true, autoDelete: false, vhost: 'shop' },
      bindingVersion: '0.3.0',
    });
  });

  it('describes each consumer as a receive operation on its queue, with the exchange bindings, retry and dead-letter queue', () => {
    const operation = service.operations['Billing.charge'];
    expect(operation.action).to.equal('receive');
    const channel = service.channels[operation.channel.$ref.split('/').pop()];
    expect(channel.address).to.equal('shop.billing.order-created');
    expect(channel.bindings.amqp.is).to.equal('queue');
    expect(channel.bindings.amqp.queue).to.include({ name: 'shop.billing.order-created', durable: true });
    expect(channel['x-warren-bindings']).to.deep.equal([{ exchange: 'shop.orders', type: 'direct', routingKey: 'order.created' }]);
    expect(operation['x-warren-retry']).to.include({ cascade: 'warren.delay.classic', hop: 'shop.billing.order-created.retry' });
    expect(operation['x-warren-dead-letter']).to.deep.equal({ exchange: 'warren.dead-letter', routingKey: 'shop.billing.order-created', queue: 'shop.billing.order-created.dlq' });
  });

  it('gives request routes a reply on the direct reply-to address', () => {
    const reply = service.operations['OrderEvents.quote'].reply;
    expect(reply.address.location).to.equal('$message.header#/replyTo');
    const replyChannel = service.channels[reply.channel.$ref.split('/').pop()];
    expect(replyChannel.address).to.equal(null);
    expect(Object.keys(replyChannel.messages)).to.deep.equal(['Quote']);
  });

  it('describes Buffer payloads as binary application/octet-stream and strings as text/plain', () => {
    expect(service.components.messages.Bytes).to.deep.include({ contentType: 'application/octet-stream', payload: { type: 'string', format: 'binary' } });
    expect(service.components.messages.Text).to.deep.include({ contentType: 'text/plain', payload: { type: 'string' } });
  });

  it('references nested payload classes as named schemas', () => {
    expect(service.components.schemas.OrderCreated.properties.items).to.deep.equal({ type: 'array', items: { $ref: '#/components/schemas/LineItem' } });
    expect(service.components.schemas.LineItem.required).to.deep.equal(['sku', 'qty']);
  });

  it('writes JSON or YAML to a file chosen by its extension', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warren-asyncapi-'));
    try {
      const json = path.join(dir, 'api.json');
      const result = await runWarren(['asyncapi', fixture('orders-service'), '-o', json]);
      expect(result.code).to.equal(0);
      expect(JSON.parse(readFileSync(json, 'utf8')).asyncapi).to.equal('3.0.0');
      expect(result.stderr).to.match(/wrote .*api\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts a glob of compiled modules', async () => {
    const result = await runWarren(['asyncapi', path.join(path.dirname(fixture('dto-zoo')), 'orders-*.js'), '--format', 'json']);
    expect(result.code, result.stderr).to.equal(0);
    expect(Object.keys(JSON.parse(result.stdout).operations)).to.include('Billing.charge');
  });

  it('exits 2 with a one-line message, not a stack trace, when the entry does not exist', async () => {
    const result = await runWarren(['asyncapi', 'dist/nowhere.js']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/^warren: dist\/nowhere\.js: no such file\. Build the service first/);
    expect(result.stderr).not.to.match(/\n\s+at /);
  });

  it('exits 2 when a module exports no handler or publisher class', async () => {
    const result = await runWarren(['asyncapi', path.resolve(__dirname, 'support/cli.js')]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('export no @Consumer handler class and no @Publisher class');
  });

  it('shows examples in --help', async () => {
    const result = await runWarren(['asyncapi', '--help']);
    expect(result.code).to.equal(0);
    expect(result.stdout).to.contain('Examples:').and.to.contain('warren asyncapi dist/src/handlers.js -o asyncapi.yaml');
  });
});
