import 'reflect-metadata';
import { configFromEnv, Warren } from '@warren/core';
import { Thumbnailer } from './handlers';

// The pipeline: summarises uploaded images until SIGINT / SIGTERM. AMQP_URL picks the broker;
// unset → the embedded broker.
Warren.run({ name: 'image-pipeline', handlers: [Thumbnailer], ...configFromEnv(process.env) }).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
