// The code blocks of docs/operations.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer, inbox, MessageContext, Warren, type InboxStore, type Logger } from '@warren/core';

declare class Billing {}
declare class Reading { value: number; }
declare const pino: Record<'debug' | 'info' | 'warn' | 'error', (fields: object | undefined, message: string) => void>;
declare const tenant: string;
declare const store: InboxStore;
declare const db: { insertMany(rows: readonly object[]): Promise<void> };

// #region operations-1
const logger: Logger = {
  debug: (msg, fields) => pino.debug(fields, msg),
  info: (msg, fields) => pino.info(fields, msg),
  warn: (msg, fields) => pino.warn(fields, msg),
  error: (msg, fields) => pino.error(fields, msg),
};
// #endregion operations-1

// #region operations-2
await Warren.start({
  handlers: [Billing],
  middleware: {
    consume: [async (call, next) => { /* before */ try { return await next(); } finally { /* after */ } }],
    publish: [async (message, next) => { message.properties = { ...message.properties, headers: { ...message.properties.headers, tenant } }; await next(); }],
  },
});
// #endregion operations-2

// #region operations-3
await Warren.start({ handlers: [Billing], middleware: { consume: [inbox({ store, ttlMs: 86_400_000 })] } });
// #endregion operations-3

// #region operations-4
@injectable()
export class Meter {
  @Consumer('meter', 'reading', { message: Reading, batch: { size: 100, timeMs: 50 } })
  async store(readings: Reading[], contexts: MessageContext[]) { await db.insertMany(readings); }
}
// #endregion operations-4
