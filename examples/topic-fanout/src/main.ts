import 'reflect-metadata';
import { configFromEnv, Warren } from '@warren/core';
import { HANDLERS } from './handlers';

// All the example's services in one process, until SIGINT / SIGTERM. In production each handler
// class would run in its own service; the queues and bindings are the same.
Warren.run({ name: 'topic-fanout', handlers: HANDLERS, ...configFromEnv(process.env) }).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
