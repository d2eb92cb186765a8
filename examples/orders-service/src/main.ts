import 'reflect-metadata';
import { container } from 'tsyringe';
import { Warren } from '@warren/core';
import { OrderBook, OrderHandlers } from './handlers';

// The service: consumes until SIGINT / SIGTERM. AMQP_URL picks the broker; unset → embedded broker.
container.registerSingleton(OrderBook);
Warren.run({ name: 'orders-service', handlers: [OrderHandlers] }).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
