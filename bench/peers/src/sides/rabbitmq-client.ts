import { Connection } from 'rabbitmq-client';
import type { OrderPlaced, OrderQuote } from '../../../dist/src/messages';
import { quoteOf, type PeerSide } from './side';

/**
 * rabbitmq-client 5.0.8, the client Warren is built on, used directly: `createConsumer` (it parses
 * `application/json` bodies itself and acks after the handler), `createPublisher({ confirm: true })`,
 * and `createRPCClient` against a consumer answering with `reply()`.
 */
export const rabbitmqClient: PeerSide = {
  async consume({ url, queue, queueArguments, prefetch, onOrder }) {
    const connection = connect(url, 'peers-rabbitmq-client-consume');
    const consumer = connection.createConsumer(
      { queue, queueOptions: { queue, durable: true, arguments: queueArguments }, qos: { prefetchCount: prefetch }, concurrency: prefetch, requeue: false },
      async (message) => { onOrder(message.body as OrderPlaced); },
    );
    await new Promise((resolve) => consumer.once('ready', resolve));
    return { async close() { await consumer.close(); await connection.close(); } };
  },

  async publisher(url, exchange, routingKey) {
    const connection = connect(url, 'peers-rabbitmq-client-publish');
    const publisher = connection.createPublisher({ confirm: true, maxAttempts: 1 });
    return {
      send: (order) => publisher.send({ exchange, routingKey, durable: true, contentType: 'application/json' }, Buffer.from(JSON.stringify(order))),
      async close() { await publisher.close(); await connection.close(); },
    };
  },

  async rpc({ url, queue, queueArguments, prefetch }) {
    const serverConnection = connect(url, 'peers-rabbitmq-client-rpc-server');
    const clientConnection = connect(url, 'peers-rabbitmq-client-rpc-client');
    const server = serverConnection.createConsumer(
      { queue, queueOptions: { queue, durable: true, arguments: queueArguments }, qos: { prefetchCount: prefetch }, concurrency: prefetch, requeue: false },
      async (message, reply) => { await reply(quoteOf(message.body as OrderPlaced), { contentType: 'application/json' }); },
    );
    await new Promise((resolve) => server.once('ready', resolve));
    const client = clientConnection.createRPCClient({ confirm: true });
    return {
      request: async (order) => {
        const response = await client.send({ routingKey: queue, contentType: 'application/json' }, Buffer.from(JSON.stringify(order)));
        return response.body as OrderQuote;
      },
      async close() {
        await client.close();
        await server.close();
        await Promise.all([clientConnection.close(), serverConnection.close()]);
      },
    };
  },
};

function connect(url: string, name: string): Connection {
  const connection = new Connection({ url, noDelay: true, connectionName: name, retryLow: 200, retryHigh: 1000 });
  connection.on('error', (error) => console.error(`[${name}]`, error));
  return connection;
}
