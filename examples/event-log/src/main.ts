import 'reflect-metadata';
import { configFromEnv, Warren } from '@warren/core';
import { SERVICES } from './handlers';

// One service per process: SERVICE=balances (default) or SERVICE=statements. Both read the same
// stream, each from its own offset. Without an offset store, a restart reads the log from the start
// again (their offset is 'first'): pass offsetStore (e.g. PostgresOffsetStore) to resume instead.
const service = (process.env.SERVICE ?? 'balances') as keyof typeof SERVICES;
if (!(service in SERVICES)) {
  console.error(`SERVICE must be one of ${Object.keys(SERVICES).join(', ')}`);
  process.exit(2);
}
Warren.run({ name: `event-log-${service}`, handlers: [...SERVICES[service]], ...configFromEnv(process.env) }).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
