import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ConsumeMessage } from 'amqplib';
import type { OrderPlaced, OrderQuote } from '../../../dist/src/messages';
import { quoteOf, type PeerSide } from './side';

/**
 * amqplib 2.3.1 as its documentation shows it: `channel.consume` with `JSON.parse` and an ack per
 * message, a confirm channel's `publish` with its callback, and request/reply written by hand over
 * direct reply-to (amqplib has none built in), as its RPC tutorial does.
 */
export const amqplib: PeerSide = {
  async consume({ url, queue, queueArguments, prefetch, onOrder }) {
    const connection = await connect(url, { noDelay: true });
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: queueArguments });
    await channel.prefetch(prefetch);
    await channel.consume(queue, (message) => {
      if (!message) return;
      onOrder(JSON.parse(message.content.toString('utf8')) as OrderPlaced);
      channel.ack(message);
    }, { noAck: false });
    return { close: () => connection.close() };
  },

  async publisher(url, exchange, routingKey) {
    const connection = await connect(url, { noDelay: true });
    const channel = await connection.createConfirmChannel();
    return {
      send: (order) => new Promise<void>((resolve, reject) => {
        channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(order)), { persistent: true, contentType: 'application/json' }, (error) => (error ? reject(error) : resolve()));
      }),
      close: () => connection.close(),
    };
  },

  async rpc({ url, queue, queueArguments, prefetch }) {
    const server = await connect(url, { noDelay: true });
    const serverChannel = await server.createChannel();
    await serverChannel.assertQueue(queue, { durable: true, arguments: queueArguments });
    await serverChannel.prefetch(prefetch);
    await serverChannel.consume(queue, (message) => {
      if (!message) return;
      const order = JSON.parse(message.content.toString('utf8')) as OrderPlaced;
      serverChannel.sendToQueue(message.properties.replyTo as string, Buffer.from(JSON.stringify(quoteOf(order))), { correlationId: message.properties.correlationId as string, contentType: 'application/json' });
      serverChannel.ack(message);
    }, { noAck: false });
    const client = await connect(url, { noDelay: true });
    const requester = await directReplyClient(await client.createChannel(), queue);
    return { ...requester, async close() { await client.close(); await server.close(); } };
  },
};

/** Requests with a fresh correlation id each, answered to `amq.rabbitmq.reply-to` on the same channel. */
async function directReplyClient(channel: Channel, queue: string): Promise<{ request(order: OrderPlaced): Promise<OrderQuote> }> {
  const waiting = new Map<string, (reply: OrderQuote) => void>();
  await channel.consume('amq.rabbitmq.reply-to', (message: ConsumeMessage | null) => {
    const resolve = message && waiting.get(message.properties.correlationId as string);
    if (!resolve) return;
    waiting.delete(message.properties.correlationId as string);
    resolve(JSON.parse(message.content.toString('utf8')) as OrderQuote);
  }, { noAck: true });
  return {
    request: (order: OrderPlaced) => new Promise<OrderQuote>((resolve) => {
      const correlationId = randomUUID();
      waiting.set(correlationId, resolve);
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(order)), { correlationId, replyTo: 'amq.rabbitmq.reply-to', contentType: 'application/json' });
    }),
  };
}
