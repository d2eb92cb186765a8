/**
 * The service of the ledger fault test, run as a child process so it can be killed with SIGKILL.
 * For each `work` message it inserts a business row and publishes a `done` event through the
 * outbox, in the transactional inbox's transaction; a relay in the same process sends the events.
 * Prints `ready` once consuming.
 */
import 'reflect-metadata';
import { Consumer, jsonLogger, Publisher, route, Warren, type MessageContext, type Route } from '@warren/core';
import { Pool } from 'pg';
import { container, injectable } from 'tsyringe';
import { Outbox, OutboxRelay, transactionalInbox, transactionOf } from '../../src';
import { Work } from './ledger-messages';


@Publisher('${EX}', { type: 'topic' })
export class LedgerEvents {
  done: Route<Work> = route('done', Work);
}

const env = process.env as Record<string, string>;
const business = `${env.PG_SCHEMA}.business`;

@injectable()
class LedgerService {
  constructor(private readonly events: LedgerEvents) {}

  @Consumer('${EX}', 'work', { queue: '${EX}.work', exchangeType: 'topic', prefetch: 60, concurrency: 20, retry: { attempts: 5, delay: 200 } })
  async work(work: Work, ctx: MessageContext): Promise<void> {
    const tx = transactionOf(ctx);
    await tx.query(`INSERT INTO ${business} (message_id) VALUES ($1)`, [ctx.messageId]);
    await tx.publish(this.events.done, { id: work.id }, { messageId: `done-${work.id}` });
  }
}

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: env.PG_URL, max: 24, connectionTimeoutMillis: 5000 });
  // An idle client whose server went away (a restart) emits here; without a listener it would crash us.
  pool.on('error', () => undefined);
  const outbox = new Outbox({ pool, outboxTable: `${env.PG_SCHEMA}.warren_outbox` });
  const logger = jsonLogger({ name: env.SERVICE_NAME, level: 'warn' });
  const app = await Warren.start({
    url: env.AMQP_URL, name: env.SERVICE_NAME, env, logger, telemetry: false, container: container.createChildContainer(),
    handlers: [LedgerService],
    middleware: { consume: [transactionalInbox({ outbox, inboxTable: `${env.PG_SCHEMA}.warren_inbox`, logger, unavailableDelayMs: 500 })] },
  });
  const relay = new OutboxRelay(outbox, { transport: app.transport, logger, batchSize: 200, pollIntervalMs: 500 }).start();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void relay.close().then(() => app.close()).then(() => pool.end()).then(() => process.exit(0), () => process.exit(1));
  });
}

main().catch((error: Error) => {
  process.stderr.write(`ledger service failed to start: ${error.stack}\n`);
  process.exit(1);
});
