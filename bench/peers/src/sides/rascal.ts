import { BrokerAsPromised, type BrokerConfig } from 'rascal';
import type { OrderPlaced } from '../../../dist/src/messages';
import type { PeerSide } from './side';

/**
 * Rascal 21.0.1 (on amqplib 2.3.1) configured as its documentation shows: a subscription with a
 * prefetch that parses JSON and acks with `ackOrNack()` after the handler, and a publication with
 * its defaults (confirmed, persistent, mandatory, a UUID message id per message). Rascal has no
 * request/reply.
 */
export const rascal: PeerSide = {
  async consume({ url, queue, queueArguments, prefetch, onOrder }) {
    const broker = await BrokerAsPromised.create(config(url, {
      queues: { [queue]: { options: { durable: true, arguments: queueArguments } } },
      subscriptions: { orders: { queue, prefetch } },
    }));
    const subscription = await broker.subscribe('orders');
    subscription.on('message', (_message: unknown, content: OrderPlaced, ackOrNack: () => void) => {
      onOrder(content);
      ackOrNack();
    });
    subscription.on('error', (error: Error) => console.error('[rascal]', error));
    return { close: () => broker.shutdown() };
  },

  async publisher(url, exchange, routingKey) {
    const broker = await BrokerAsPromised.create(config(url, {
      exchanges: { [exchange]: { assert: false, check: true } },
      publications: { orders: { exchange, routingKey, options: { persistent: true, contentType: 'application/json' } } },
    }));
    return {
      send: async (order) => {
        const publication = await broker.publish('orders', order);
        await new Promise<void>((resolve, reject) => {
          publication.on('success', () => resolve());
          publication.on('error', reject);
          publication.on('return', () => reject(new Error('returned')));
        });
      },
      close: () => broker.shutdown(),
    };
  },
};

function config(url: string, vhost: Record<string, unknown>): BrokerConfig {
  return { vhosts: { '/': { connection: { url, socketOptions: { noDelay: true } }, ...vhost } } } as BrokerConfig;
}
