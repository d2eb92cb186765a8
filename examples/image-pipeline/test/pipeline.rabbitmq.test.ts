import 'reflect-metadata';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { AmqpTransport, silentLogger, Warren } from '@warren/core';
import { ImageUploads, Thumbnailer } from '../src/handlers';
import { encodePpm } from '../src/ppm';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { afterCleanup } from './support/cleanup';

describeWithBroker('image-pipeline', () => {
  const env = { IMAGES_EXCHANGE: uniqueName('images'), THUMBNAILS_EXCHANGE: uniqueName('thumbnails') };
  const summaries = `${env.THUMBNAILS_EXCHANGE}.test-listener`;
  let app: Warren;

  before(async () => {
    app = await Warren.start({ url: AMQP_URL, env, handlers: [Thumbnailer], logger: silentLogger });
    await app.transport.declare({ queues: [{ name: summaries }], bindings: [{ exchange: env.THUMBNAILS_EXCHANGE, queue: summaries, routingKey: '' }] });
  });
  afterCleanup('delete the topology, close the app', async () => {
    if (!app) return; // skipped: no broker
    // Close first: a consumer still attached re-declares a queue deleted under it.
    await app.close();
    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    try {
      for (const queue of [summaries, `${env.IMAGES_EXCHANGE}.thumbnailer`, `${env.IMAGES_EXCHANGE}.thumbnailer.dlq`, `${env.IMAGES_EXCHANGE}.thumbnailer.redelivered`]) await admin.deleteQueue(queue).catch(() => undefined);
      for (const exchange of Object.values(env)) await admin.deleteExchange(exchange).catch(() => undefined);
    } finally {
      await admin.close();
    }
  });

  it('carries image bytes through RabbitMQ and fans the summary out as JSON', async () => {
    const image = encodePpm(32, 16, (x, y) => [x * 8, y * 16, 200]);
    await app.get(ImageUploads).uploaded(image);
    let summary: Record<string, unknown> | undefined;
    for (const deadline = Date.now() + 8000; !summary && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
      const message = await app.transport.get(summaries);
      if (message) {
        summary = JSON.parse(message.body.toString('utf8')) as Record<string, unknown>;
        await message.ack();
      }
    }
    expect(summary).to.deep.include({ sha256: createHash('sha256').update(image).digest('hex'), bytes: image.length, width: 32, height: 16 });
  });
});
