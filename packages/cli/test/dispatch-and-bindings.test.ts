import { Parser } from '@asyncapi/parser';
import { AmqpTransport } from '@warren/core';
import { expect } from 'chai';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { fixture, runWarren } from './support/cli';
import { afterCleanup } from './support/cleanup';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `warren topology` and `warren asyncapi` for a service with several methods on one queue and exchange-to-exchange bindings. */
describe('warren topology and asyncapi: shared queues and exchange-to-exchange bindings', function () {
  this.timeout(30_000);

  it('lists the exchange-to-exchange bindings, from @Publisher and from topology, marking exchanges declared elsewhere', async () => {
    const result = await runWarren(['topology', fixture('dispatch-service')]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain([
      'Exchange-to-exchange bindings (what the source routes for the key also goes to the destination)',
      '  dispatch.orders / order.# ⇒ dispatch.audit  (OrderEvents)',
      '  dispatch.audit / # ⇒ dispatch.mirror  (topology)',
      '  dispatch.orders / order.placed ⇒ partner.inbox (declared elsewhere)  (topology)',
    ].join('\n'));
    expect(result.stdout).to.contain('  dispatch.mirror (fanout)\n');
  });

  it('shows how a shared queue dispatches, and which method each route reaches, across exchange-to-exchange bindings', async () => {
    const result = await runWarren(['topology', fixture('dispatch-service')]);
    expect(result.stdout).to.contain([
      '  dispatch.billing',
      '    type "OrderPlaced" → Billing.placed',
      '    type "OrderAudited" → Billing.audited',
      '    routing key "order.cancelled" → Billing.cancelled',
      '    routing key pattern "order.*" → Billing.other',
    ].join('\n'));
    expect(result.stdout).to.contain('  OrderEvents.placed → dispatch.orders / order.placed [type "OrderPlaced"] → Billing.placed, Audit.record');
    expect(result.stdout).to.contain('  OrderEvents.shipped → dispatch.orders / order.shipped → Billing.other, Audit.record');
  });

  it('finds a route that reaches a shared queue no method of which takes it (NO_HANDLER), and fails --strict on it', async () => {
    const result = await runWarren(['topology', fixture('dispatch-service'), '--strict']);
    expect(result.code).to.equal(1);
    const findings = result.stdout.slice(result.stdout.indexOf('Findings')).split('\n').filter((l) => l.startsWith('  ✗ ')).map((l) => l.slice(4));
    expect(findings).to.deep.equal([
      'OrderEvents.archived sends messages without a type to dispatch.orders / order.archived.2024, which reaches queue dispatch.billing, but no method of that queue takes them (NO_HANDLER)',
    ]);
  });

  it('draws exchange-to-exchange bindings in Mermaid and dot', async () => {
    const mermaid = await runWarren(['topology', fixture('dispatch-service'), '--format', 'mermaid']);
    expect(mermaid.stdout).to.match(/e\d+ == "order\.#" ==> e\d+/);
    expect(mermaid.stdout).to.match(/e\d+\{\{"partner\.inbox \(declared elsewhere\)"\}\}/);
    const dot = await runWarren(['topology', fixture('dispatch-service'), '--format', 'dot']);
    expect(dot.stdout).to.match(/e\d+ -> e\d+ \[label="order\.placed", style=bold\];/);
  });

  it('prints the exchange-to-exchange bindings and the topology\'s exchanges for rabbitmqctl import_definitions (--print)', async () => {
    const result = await runWarren(['topology', fixture('dispatch-service'), '--print']);
    const definitions = JSON.parse(result.stdout) as { exchanges: Doc[]; bindings: Doc[] };
    expect(definitions.exchanges.map((e) => e.name)).to.include('dispatch.mirror').and.not.include('partner.inbox');
    expect(definitions.bindings.filter((b) => b.destination_type === 'exchange')).to.deep.equal([
      { source: 'dispatch.orders', vhost: '/', destination: 'dispatch.audit', destination_type: 'exchange', routing_key: 'order.#', arguments: {} },
      { source: 'dispatch.audit', vhost: '/', destination: 'dispatch.mirror', destination_type: 'exchange', routing_key: '#', arguments: {} },
      { source: 'dispatch.orders', vhost: '/', destination: 'partner.inbox', destination_type: 'exchange', routing_key: 'order.placed', arguments: {} },
    ]);
    const queueBindings = definitions.bindings.filter((b) => b.destination === 'dispatch.billing');
    expect(queueBindings.map((b) => b.routing_key)).to.deep.equal(['order.placed', 'order.cancelled', 'order.*', 'order.#']);
  });

  it('documents a shared queue as one channel with a message per method, and the bindings, in a valid AsyncAPI document', async () => {
    const result = await runWarren(['asyncapi', fixture('dispatch-service'), '--format', 'json']);
    expect(result.code, result.stderr).to.equal(0);
    const { diagnostics } = await new Parser().parse(result.stdout);
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('/')}: ${d.message}`)).to.deep.equal([]);
    const doc = JSON.parse(result.stdout) as Doc;
    const channel = doc.channels['queue.dispatch.billing'];
    expect(Object.keys(channel.messages)).to.have.length(4);
    expect(channel['x-warren-bindings']).to.have.length(4);
    const receives = (Object.values(doc.operations) as Doc[]).filter((o) => o.channel.$ref === '#/channels/queue.dispatch.billing');
    expect(receives.map((o) => [o.title, o['x-warren-dispatch']])).to.deep.equal([
      ['Billing.placed', { type: 'OrderPlaced' }],
      ['Billing.cancelled', { routingKeys: ['order.cancelled'] }],
      ['Billing.other', { routingKeys: ['order.*'] }],
      ['Billing.audited', { type: 'OrderAudited' }],
    ]);
    const audited = doc.components.messages[receives[3]!.messages[0].$ref.split('/').pop()];
    expect(audited.bindings).to.deep.equal({ amqp: { messageType: 'OrderAudited', bindingVersion: '0.3.0' } });
    expect(doc['x-warren-exchange-bindings']).to.deep.equal([
      { source: 'dispatch.orders', destination: 'dispatch.audit', routingKey: 'order.#', declaredBy: 'OrderEvents' },
      { source: 'dispatch.audit', destination: 'dispatch.mirror', routingKey: '#', declaredBy: 'topology' },
      { source: 'dispatch.orders', destination: 'partner.inbox', routingKey: 'order.placed', declaredBy: 'topology' },
    ]);
  });

  describeWithBroker('--check', () => {
    const prefix = uniqueName('dispatch');
    const env = { DISPATCH_PREFIX: prefix };
    let transport: AmqpTransport;

    before(async () => {
      transport = new AmqpTransport({ url: AMQP_URL });
      await transport.connect();
      // The publisher's exchange as the code declares it; the mirror with another type; the rest missing.
      await transport.declare({ exchanges: [{ name: `${prefix}.orders`, type: 'topic' }, { name: `${prefix}.mirror`, type: 'direct' }] });
    });

    afterCleanup('delete the checked exchanges', async () => {
      if (!transport) return; // skipped: no broker
      for (const exchange of ['orders', 'mirror', 'audit']) await transport.deleteExchange(`${prefix}.${exchange}`).catch(() => undefined);
      await transport.close();
    });

    it('checks each exchange, and that both ends of each exchange-to-exchange binding exist, without creating anything', async () => {
      const result = await runWarren(['topology', fixture('dispatch-service'), '--check', AMQP_URL], { env });
      expect(result.stderr).to.equal('');
      expect(result.code).to.equal(1);
      expect(result.stdout).to.contain(`✓ ${prefix}.orders: ok`);
      expect(result.stdout).to.match(new RegExp(`✗ ${prefix.replace(/\./g, '\\.')}\\.mirror: differs — .*type`));
      expect(result.stdout).to.contain(`✗ ${prefix}.audit: missing`);
      expect(result.stdout).to.contain('✗ partner.inbox: missing');
      expect(result.stdout).to.contain('3 exchange-to-exchange binding(s): their ends are checked above');
      expect(await transport.inspectExchange(`${prefix}.audit`).then(() => 'exists', () => 'missing')).to.equal('missing');
    });
  });
});
