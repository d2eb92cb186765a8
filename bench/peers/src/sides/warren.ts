import { silentLogger, Warren } from '@warren/core';
import { consumerClass, publisherClass, type PayloadMode } from '../../../dist/src/warren-apps';
import { quoteOf, type PeerSide } from './side';

/**
 * Warren with its defaults: a `@Consumer` method taking the `OrderPlaced` DTO (compiled validation,
 * then the handler, then a coalesced ack), a `@Publisher` route (validation, message id, timestamp,
 * persistent, confirmed, mandatory on its direct exchange), and `route.request()` answered by a
 * validated consumer returning a validated `OrderQuote`. Telemetry is on (no SDK registered).
 * `validated: false` takes the payload as `{ message: Object }` and publishes with `validate: false`;
 * everything else stays as it is.
 */
export function warren(validated: boolean): PeerSide {
  const mode: PayloadMode = validated ? 'validated' : 'unvalidated';
  return {
    async consume({ url, queue, prefetch, onOrder }) {
      const handler = consumerClass({ queue, prefetch, concurrency: prefetch, mode, onMessage: (order) => { onOrder(order); } });
      return Warren.start({ url, handlers: [handler], logger: silentLogger, name: 'peers-warren' });
    },

    async publisher(url, exchange, routingKey) {
      const Events = publisherClass(exchange, routingKey, { validate: validated });
      const app = await Warren.start({ url, publishers: [Events], logger: silentLogger, name: 'peers-warren' });
      const events = app.get(Events);
      return { send: (order) => events.placed(order), close: () => app.close() };
    },

    async rpc({ url, queue, prefetch }) {
      const handler = consumerClass({ queue, prefetch, concurrency: prefetch, mode, onMessage: quoteOf });
      const Requests = publisherClass('', queue, { validate: validated });
      const app = await Warren.start({ url, handlers: [handler], publishers: [Requests], logger: silentLogger, name: 'peers-warren' });
      const requests = app.get(Requests);
      return { request: (order) => requests.placed.request(order), close: () => app.close() };
    },
  };
}
