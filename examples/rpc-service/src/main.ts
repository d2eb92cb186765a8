import 'reflect-metadata';
import { configFromEnv, Warren } from '@warren/core';
import { PricingHandlers } from './handlers';

// The pricing service: answers quote requests until SIGINT / SIGTERM. AMQP_URL picks the broker;
// unset → the embedded broker (then only callers in this process can reach it: see demo.ts).
Warren.run({ name: 'pricing', handlers: [PricingHandlers], ...configFromEnv(process.env) }).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
