import 'reflect-metadata';
import { AmqpTransport, MemoryTransport } from '@warren/core';
import { eventually, publishHistory, startService } from './ledger';

/**
 * Publishes four account events to the log, then shows three readers of it: the live balances
 * projection, a statements service started afterwards that reads the log from the beginning, and a
 * replay that rebuilds the balances from scratch.
 */
async function main(): Promise<void> {
  const url = process.env.AMQP_URL;
  // A fresh log per run on RabbitMQ (deleted at the end); the embedded broker is fresh anyway.
  const env = { ...process.env, LEDGER_EXCHANGE: process.env.LEDGER_EXCHANGE ?? `ledger-demo-${Date.now()}` };
  const shared = url ? undefined : new MemoryTransport();
  const balances = await startService('balances', { url, transport: shared, env });
  const statements = { started: undefined as Awaited<ReturnType<typeof startService>> | undefined };
  try {
    await publishHistory(balances);
    await eventually(() => balances.settled.length === 4);
    console.log('balances (live):', Object.fromEntries(balances.balances.balances), `— ${balances.settled.filter((s) => s.outcome === 'dead-lettered').length} withdrawal refused and dead-lettered`);

    statements.started = await startService('statements', { url, transport: shared, env });
    const reader = statements.started;
    await eventually(() => reader.settled.length === 4);
    console.log('statements (a second reader, started later, from the first event):', Object.fromEntries(reader.statements.lines));

    balances.balances.balances.clear();
    const report = await balances.app.replay('Balances.apply', { since: 'first', idleMs: 1000 });
    console.log('balances (rebuilt by a replay):', Object.fromEntries(balances.balances.balances), `— ${report.handled} handled, ${report.deadLettered} dead-lettered`);
  } finally {
    const log = `${env.LEDGER_EXCHANGE}.log`;
    await statements.started?.app.close();
    await balances.app.close();
    if (url) {
      const admin = new AmqpTransport({ url });
      await admin.connect();
      for (const queue of [log, `${log}.dlq`]) await admin.deleteQueue(queue).catch(() => undefined);
      await admin.deleteExchange(env.LEDGER_EXCHANGE).catch(() => undefined);
      await admin.close();
    }
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
