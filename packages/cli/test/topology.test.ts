import { AmqpTransport, delayCascadeTopology } from '@warren/core';
import { expect } from 'chai';
import { loadService } from '../src/service-loader';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { fixture, runWarren } from './support/cli';
import { afterCleanup } from './support/cleanup';

describe('warren topology', function () {
  this.timeout(20_000);

  it('prints exchanges → bindings → queues, with dead-letter queues, and the delay cascade with its retry and route hops', async () => {
    const result = await runWarren(['topology', fixture('orders-service')]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('  shop.orders (direct)\n    order.created → shop.billing.order-created  (Billing.charge)  [classic, dead letters → warren.dead-letter / shop.billing.order-created]');
    expect(result.stdout).to.contain('  warren.dead-letter (direct)\n    shop.billing.order-created → shop.billing.order-created.dlq  (dead letters of Billing.charge)');
    expect(result.stdout).to.contain('  classic cascade: warren.delay.classic.31 … warren.delay.classic.00 (32 levels, level N waits 2^N ms) → warren.delay.deliver  (declared at start)');
    expect(result.stdout).to.contain('    shop.billing.order-created.retry → shop.billing.order-created  (Billing.charge)  [classic]');
    expect(result.stdout).to.contain('    warren.delay.classic.to.shop.orders/order.created → shop.orders / order.created  (OrderEvents.created)');
    expect(result.stdout, 'one hop per consumer, no queue per retry delay').not.to.match(/\.retry\.\d/);
    expect(result.stdout).to.contain('  ImageEvents.uploaded → shop.images / (empty key) → Billing.thumbnail');
  });

  it('lists each consumer\'s redelivered queue', async () => {
    const result = await runWarren(['topology', fixture('orders-service')]);
    expect(result.stdout).to.contain('Redelivered queues').and.contain('  shop.billing.order-created.redelivered  (Billing.charge)');
  });

  it('prints what an administrator must create as definitions for rabbitmqctl import_definitions (--print)', async () => {
    const result = await runWarren(['topology', fixture('orders-service'), '--print', '--vhost', 'shop']);
    expect(result.code, result.stderr).to.equal(0);
    const definitions = JSON.parse(result.stdout) as { exchanges: Array<Record<string, unknown>>; queues: Array<Record<string, unknown>>; bindings: Array<Record<string, unknown>> };
    expect(definitions.exchanges).to.deep.include({ name: 'shop.orders', vhost: 'shop', type: 'direct', durable: true, auto_delete: false, internal: false, arguments: {} });
    expect(definitions.exchanges.map((e) => e.name)).to.include('warren.dead-letter').and.not.include('');
    const queue = definitions.queues.find((q) => q.name === 'shop.billing.order-created')!;
    expect(queue).to.include({ vhost: 'shop', durable: true, auto_delete: false });
    expect(queue.arguments).to.include({ 'x-dead-letter-exchange': 'warren.dead-letter', 'x-dead-letter-routing-key': 'shop.billing.order-created' });
    expect(definitions.queues.map((q) => q.name)).to.include.members([
      'shop.billing.order-created.dlq', 'shop.billing.order-created.retry', 'shop.billing.order-created.redelivered',
      'warren.delay.classic.00', 'warren.delay.classic.31', 'warren.delay.unroutable', 'warren.delay.classic.to.shop.orders/order.created',
    ]);
    // The cascade passes a 0 bit on from level to level by exchange-to-exchange bindings.
    expect(definitions.bindings).to.deep.include({ source: 'warren.delay.classic.01', vhost: 'shop', destination: 'warren.delay.classic.00', destination_type: 'exchange', routing_key: `${'*.'.repeat(30)}0.#`, arguments: {} });
    expect(definitions.exchanges).to.deep.include({ name: 'warren.delay.deliver', vhost: 'shop', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: { 'alternate-exchange': 'warren.delay.unroutable' } });
    expect(definitions.bindings).to.deep.include({ source: 'shop.orders', vhost: 'shop', destination: 'shop.billing.order-created', destination_type: 'queue', routing_key: 'order.created', arguments: {} });
  });

  it('flags dead routes across services, following topic wildcards and fanout', async () => {
    const result = await runWarren(['topology', fixture('orders-service'), fixture('notifications-service')]);
    expect(result.code, result.stderr).to.equal(0);
    const findings = result.stdout.slice(result.stdout.indexOf('Findings')).split('\n').filter((l) => l.startsWith('  ✗ ')).map((l) => l.slice(4));
    expect(findings).to.have.members([
      'OrderEvents.note sends to shop.orders / order.note, but no consumer in the given services binds it',
      'NoticeEvents.bounced sends to shop.notices / notice.sms.bounced, but no consumer in the given services binds it',
      'Notifications.push binds shop.notices / notice.push.# (queue shop.notifications.push), but no publisher in the given services sends to it',
      'exchange shop.images is declared differently (RabbitMQ refuses the second declaration): Billing.thumbnail: fanout, durable; Notifications.images: topic, durable',
    ]);
    expect(result.stdout).to.contain('OrderEvents.created → shop.orders / order.created → Billing.charge, Notifications.onOrder');
    expect(result.stdout).to.contain('NoticeEvents.sent → shop.notices / notice.email.sent → Notifications.email');
  });

  it('exits 1 on findings with --strict, so CI can gate on dead routes', async () => {
    expect((await runWarren(['topology', fixture('orders-service'), '--strict'])).code).to.equal(1);
    expect((await runWarren(['topology', fixture('dto-zoo'), '--strict'])).code).to.equal(0);
  });

  it('draws the topology as a Mermaid flowchart and as Graphviz dot, dead routes in red', async () => {
    const mermaid = await runWarren(['topology', fixture('orders-service'), '--format', 'mermaid']);
    expect(mermaid.stdout).to.match(/^flowchart LR\n/);
    expect(mermaid.stdout).to.match(/e\d+ -- "order\.created" --> q\d+/);
    expect(mermaid.stdout).to.match(/q\d+ -\. "retry, when due" \.-> q\d+/);
    const dot = await runWarren(['topology', fixture('orders-service'), '--format', 'dot']);
    expect(dot.stdout).to.match(/^digraph warren \{/);
    expect(dot.stdout).to.match(/p\d+ -> e\d+ \[label="order\.note", color=red, fontcolor=red\];/);
  });

  it('refuses an unknown format with exit code 2', async () => {
    const result = await runWarren(['topology', fixture('orders-service'), '--format', 'svg']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain("argument 'svg' is invalid");
  });

  describeWithBroker('--check', () => {
    const prefix = uniqueName('topology');
    const env = { CHECK_PREFIX: prefix };
    let transport: AmqpTransport;

    before(async () => {
      transport = new AmqpTransport({ url: AMQP_URL });
      await transport.connect();
      const service = loadService([fixture('checked-service')], { env });
      const same = service.consumers.find((c) => c.queue === `${prefix}.same`)!;
      const different = service.consumers.find((c) => c.queue === `${prefix}.different`)!;
      await transport.declare(same.topology);
      const retrying = service.consumers.find((c) => c.queue === `${prefix}.retrying`)!;
      await transport.declare(retrying.topology);
      await transport.declare(delayCascadeTopology('classic'));
      // Declared once without the dead-letter exchange Warren requires: a deploy would be refused.
      await transport.declare({ queues: [{ name: different.queue, durable: true }, ...different.topology.queues!.filter((q) => q.name !== different.queue)] });
    });

    afterCleanup('delete the checked topology', async () => {
      if (!transport) return; // skipped: no broker
      for (const queue of ['same', 'same.dlq', 'same.redelivered', 'different', 'different.dlq', 'different.redelivered', 'missing', 'retrying', 'retrying.dlq', 'retrying.redelivered', 'retrying.retry']) await transport.deleteQueue(`${prefix}.${queue}`).catch(() => undefined);
      await transport.deleteExchange(`${prefix}.events`).catch(() => undefined);
      await transport.close();
    });

    it('reports queues that match, are missing, or have different arguments, and exits 1', async () => {
      const result = await runWarren(['topology', fixture('checked-service'), '--check', AMQP_URL], { env });
      expect(result.stderr).to.equal('');
      expect(result.code).to.equal(1);
      expect(result.stdout).to.contain(`✓ ${prefix}.same: ok`);
      expect(result.stdout).to.contain(`✓ ${prefix}.same.dlq: ok`);
      expect(result.stdout).to.match(new RegExp(`✗ ${prefix.replace(/\./g, '\\.')}\\.different: arguments differ — .*x-dead-letter-exchange`));
      expect(result.stdout).to.contain(`✗ ${prefix}.missing: missing`);
      expect(result.stdout, 'the retry hop').to.contain(`✓ ${prefix}.retrying.retry: ok`);
      for (const level of ['00', '31']) expect(result.stdout, 'the cascade its retries wait in').to.contain(`✓ warren.delay.classic.${level}: ok`);
      expect(result.stdout).not.to.contain(':guest@');
    });

    it('leaves the broker as it found it: a missing queue is not created', async () => {
      let missing = false;
      await transport.inspectQueue(`${prefix}.missing`).catch(() => { missing = true; });
      expect(missing).to.equal(true);
    });

    it('exits 2 with a redacted message when the broker cannot be reached', async () => {
      const result = await runWarren(['topology', fixture('checked-service'), '--check', 'amqp://someone:hunter2@127.0.0.1:1/'], { env });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/^warren: Could not connect to amqp:\/\/127\.0\.0\.1:1\//);
      expect(result.stderr).not.to.contain('hunter2');
    });
  });
});
