// The code blocks of docs/streams.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Warren, type OffsetStore } from '@warren/core';
import { applySchema, PostgresOffsetStore } from '@warren/postgres';
import type { Pool } from 'pg';

declare class AccountEvent { accountId: string; }
declare class Job { id: string; }
declare const projection: { apply(offset: number, event: AccountEvent): Promise<void> };
declare const pool: Pool;
declare const runner: { run(job: Job): Promise<void> };
declare const kv: { get(key: string): Promise<string | undefined>; set(key: string, value: string): Promise<void> };

// #region streams-consumer
@injectable()
export class AccountHistory {
  @Consumer('accounts', 'account.#', {
    exchangeType: 'topic',
    queue: 'accounts.history',
    queueType: 'stream',
    offset: 'first',                      // where to start the first time: 'first' | 'last' | 'next' | 1042 | new Date(…) | '2h'
    maxAge: '30d',                        // retention: x-max-age
    maxLengthBytes: 20_000_000_000,       // retention: x-max-length-bytes
    prefetch: 100,
    retry: { attempts: 3, delay: 500 },   // in process: the message is retried before the next one's offset is stored
  })
  async record(event: AccountEvent, ctx: MessageContext) {
    await projection.apply(ctx.streamOffset!, event);
  }
}
// #endregion streams-consumer

// #region streams-postgres
await applySchema(pool);                  // creates warren_offsets with the outbox and inbox tables
const app = await Warren.start({ handlers: [AccountHistory], offsetStore: new PostgresOffsetStore({ pool }) });
// #endregion streams-postgres

// #region streams-offset-store
export class KeyValueOffsetStore implements OffsetStore {
  async load(consumer: string): Promise<number | undefined> {
    const value = await kv.get(`offset:${consumer}`);
    return value === undefined ? undefined : Number(value);
  }

  async save(consumer: string, offset: number): Promise<void> {
    await kv.set(`offset:${consumer}`, String(offset));
  }
}
// #endregion streams-offset-store

// #region streams-replay
const report = await app.replay('AccountHistory.record', { since: '2h' });
console.log(`${report.handled} handled again, ${report.deadLettered} dead-lettered, offsets ${report.first}…${report.last}`);
// #endregion streams-replay

// #region streams-single-active
@injectable()
export class Ledger {
  @Consumer('accounts', 'entry.posted', { queue: 'ledger.entries', queueType: 'quorum', singleActiveConsumer: true, prefetch: 1, concurrency: 1 })
  async post(job: Job) { await runner.run(job); }
}
// #endregion streams-single-active

// #region streams-priority
@injectable()
export class LocalWorker {
  // Instances in the same zone as the data get the work first; the others only when these are full.
  @Consumer('jobs', 'job.created', { queue: 'jobs', priority: 10, prefetch: 5 })
  async run(job: Job) { await runner.run(job); }
}
// #endregion streams-priority
