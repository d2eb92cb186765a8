import 'reflect-metadata';
import { configFromEnv, Warren, type FetchedMessage } from '@warren/core';
import { ImageUploads, Thumbnailer } from './handlers';
import { encodePpm } from './ppm';

/**
 * The seed's "image data" case end to end: upload a generated image and a file that is not one,
 * print the summary the pipeline publishes, and show where the bad upload went.
 */
async function main(): Promise<void> {
  const app = await Warren.start({ name: 'image-pipeline-demo', handlers: [Thumbnailer], ...configFromEnv(process.env) });
  const inbox = 'image-pipeline-demo.summaries';
  try {
    // A queue of our own on the fanout exchange, to read the summaries; deleted below. Durable: RabbitMQ
    // 4.x refuses transient non-exclusive queues (docs/brokers.md), and an exclusive one would belong to
    // the connection that declares it, not to the one `get` reads with.
    await app.transport.declare({ queues: [{ name: inbox }], bindings: [{ exchange: 'thumbnails', queue: inbox, routingKey: '' }] });
    const image = encodePpm(64, 48, (x, y) => [x * 4, y * 5, 128]);
    await app.get(ImageUploads).uploaded(image);
    await app.get(ImageUploads).uploaded(Buffer.from('GIF89a…not really'));
    const summary = await waitForMessage(() => app.transport.get(inbox));
    console.log(`summary of a ${image.length}-byte upload: ${summary}`);
    const dead = await waitForMessage(() => app.transport.get('images.thumbnailer.dlq'));
    console.log(`dead-lettered upload: ${dead}`);
  } finally {
    await app.transport.deleteQueue(inbox).catch(() => undefined);
    await app.close();
  }
}

/** Polls a queue until it yields a message, takes it, and describes it: its JSON body, or a dead letter's reason. */
async function waitForMessage(get: () => Promise<FetchedMessage | undefined>): Promise<string> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const message = await get();
    if (!message) continue;
    await message.ack();
    const reason = message.properties.headers?.['x-warren-error-message'];
    return typeof reason === 'string' ? `${String(message.properties.headers?.['x-warren-error-code'])}: ${reason}` : message.body.toString('utf8');
  }
  throw new Error('no message arrived within 10 s');
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
