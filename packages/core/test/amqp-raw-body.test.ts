import { expect } from 'chai';
import { AmqpTransport, type Delivery } from '../src';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { afterCleanup } from './support/cleanup';

/**
 * rabbitmq-client decodes `application/json` and `text/plain` bodies itself; Warren keeps the bytes
 * on its own channels (transports/amqp/message.ts, the one client internal it relies on). These
 * bodies do not survive a decode and re-encode, so a client upgrade that moves the hook fails here.
 */
const BODIES: Array<{ contentType: string; body: Buffer; why: string }> = [
  { contentType: 'application/json', body: Buffer.from('{ "id" : 12345678901234567890,\n "id": "dup" }'), why: 'whitespace, a number beyond 2^53, a duplicate key' },
  { contentType: 'text/plain', body: Buffer.from([0x68, 0x69, 0xff, 0xfe, 0xc3]), why: 'invalid UTF-8' },
];

describeWithBroker('AmqpTransport raw bodies', function () {
  let transport: AmqpTransport;
  const queue = uniqueName('raw-body');

  before(async () => {
    transport = new AmqpTransport({ url: AMQP_URL });
    await transport.connect();
    // Durable: RabbitMQ 4.x may refuse transient non-exclusive queues (docs/brokers.md).
    await transport.declare({ queues: [{ name: queue }] });
  });
  afterCleanup('delete the queue, close the transport', async () => {
    await transport?.deleteQueue(queue).catch(() => undefined);
    await transport?.close({ timeoutMs: 5_000 });
  });

  for (const { contentType, body, why } of BODIES) {
    it(`delivers a ${contentType} body byte for byte to a consumer and to get() (${why})`, async function () {
      this.timeout(15_000);
      await transport.publish({ exchange: '', routingKey: queue, body, properties: { contentType } });
      const fetched = (await transport.get(queue))!;
      await fetched.ack();
      expect(fetched.body.equals(body), fetched.body.toString('hex')).to.equal(true);
      expect(fetched.properties.contentType).to.equal(contentType);

      let resolveDelivery!: (delivery: Delivery) => void;
      const delivered = new Promise<Delivery>((resolve) => { resolveDelivery = resolve; });
      const subscription = await transport.subscribe({ queue, prefetch: 1, concurrency: 1 }, async (delivery) => { resolveDelivery(delivery); return 'ack'; });
      try {
        await transport.publish({ exchange: '', routingKey: queue, body, properties: { contentType } });
        const delivery = await delivered;
        expect(delivery.body.equals(body), delivery.body.toString('hex')).to.equal(true);
        expect(delivery.properties.contentType).to.equal(contentType);
      } finally {
        await subscription.close(5_000);
      }
    });
  }
});
