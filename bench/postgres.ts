/**
 * `npm run bench:postgres`: the cost of exactly-once with @warren/postgres, on the machine's broker
 * (AMQP_URL) and PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test). Not run
 * by the tests or CI's smoke run. `--smoke` shrinks it to a few seconds.
 *
 * 1. Relay throughput: N committed outbox rows, then one relay drains them (messages/s), against N
 *    plain confirmed route publishes (32 in flight).
 * 2. Commit-to-consume latency at 1,000 msg/s: one transaction per message, paced by the clock;
 *    latency from the COMMIT resolving to the consumer receiving it (p50 / p99), against a plain
 *    route publish → consumer at the same rate.
 * 3. Transactional inbox overhead: N messages published and consumed by an empty handler, plain and
 *    inside the transactional inbox (BEGIN, inbox INSERT, COMMIT per message), 20 at a time.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Consumer, Publisher, route, silentLogger, Warren, type MessageContext } from '@warren/core';
import { applySchema, Outbox, OutboxRelay, transactionalInbox } from '@warren/postgres';
import { IsInt, IsString } from 'class-validator';
import { Pool } from 'pg';
import { container, injectable } from 'tsyringe';
import { percentile, sleep } from './src/stats';

class Tick {
  @IsString() id!: string;
  @IsInt() n!: number;
}

@Publisher('${EX}', { type: 'topic' })
class Ticks {
  readonly outboxed = route('tick.outbox', Tick);
  readonly plain = route('tick.plain', Tick);
  readonly work = route('tick.work', Tick);
}

/** Receipt times by message id, and a counter per routing key. */
const received = new Map<string, number>();
let worked = 0;

@injectable()
class Sink {
  @Consumer('${EX}', ['tick.outbox', 'tick.plain'], { queue: '${EX}.sink', exchangeType: 'topic', prefetch: 500, concurrency: 100 })
  async sink(_tick: Tick, ctx: MessageContext) { received.set(ctx.messageId!, performance.now()); }

  @Consumer('${EX}', 'tick.work', { queue: '${EX}.work', exchangeType: 'topic', prefetch: 50, concurrency: 20 })
  async work(_tick: Tick) { worked++; }
}

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke');
  const n = smoke ? 300 : 5000;
  const rate = 1000;
  const seconds = smoke ? 1 : 8;
  const exchange = `warren-bench-pg.${randomBytes(4).toString('hex')}`;
  const schema = `warren_bench_${randomBytes(4).toString('hex')}`;
  const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 24 });
  pool.on('error', () => undefined);
  await pool.query(`CREATE SCHEMA ${schema}`);
  const names = { outboxTable: `${schema}.warren_outbox`, inboxTable: `${schema}.warren_inbox` };
  await applySchema(pool, names);
  const outbox = new Outbox({ pool, ...names });
  const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const start = (inbox: boolean) => Warren.start({
    url, env: { EX: exchange }, handlers: [Sink], publishers: [Ticks], logger: silentLogger, telemetry: false, container: container.createChildContainer(),
    middleware: { consume: inbox ? [transactionalInbox({ outbox, ...names, consumers: (c) => c === 'Sink.work' })] : [] },
  });
  let app = await start(false).catch(async (error: Error) => {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
    throw error;
  });
  const rows: string[] = [];
  const line = (what: string, figure: string) => { rows.push(`| ${what} | ${figure} |`); console.log(`${what}: ${figure}`); };
  try {
    const ticks = app.get(Ticks);

    // 1. Relay throughput against plain publishes.
    for (let i = 0; i < n; i += 100) {
      await outbox.transaction(async (tx) => { for (let j = i; j < Math.min(n, i + 100); j++) await tx.publish(ticks.outboxed, { id: `r${j}`, n: j }, { messageId: `r${j}` }); });
    }
    received.clear();
    const relayPool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 2 });
    relayPool.on('error', () => undefined);
    const relay = new OutboxRelay(outbox, { transport: app.transport, batchSize: 200, pool: relayPool });
    let began = performance.now();
    while ((await relay.relayOnce()) > 0);
    const relayRate = n / ((performance.now() - began) / 1000);
    began = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => { while (next < n) { const j = next++; await ticks.plain({ id: `p${j}`, n: j }, { messageId: `p${j}` }); } }));
    const plainRate = n / ((performance.now() - began) / 1000);
    line(`relay throughput (${n} rows, batches of 200)`, `${relayRate.toFixed(0)} msg/s`);
    line(`plain confirmed publish (${n}, 32 in flight)`, `${plainRate.toFixed(0)} msg/s`);

    // 2. Commit-to-consume latency at 1,000 msg/s.
    relay.start();
    await sleep(300);
    const committed = new Map<string, number>();
    const outboxLatency = await paced(rate, seconds, async (i) => {
      const id = `l${i}`;
      await outbox.transaction((tx) => tx.publish(ticks.outboxed, { id, n: i }, { messageId: id }));
      committed.set(id, performance.now());
    }).then(() => waitFor(() => [...committed.keys()].every((id) => received.has(id)))).then(() => [...committed].map(([id, at]) => received.get(id)! - at));
    await relay.close();
    await relayPool.end();
    const sentAt = new Map<string, number>();
    const plainLatency = await paced(rate, seconds, async (i) => {
      const id = `q${i}`;
      sentAt.set(id, performance.now());
      await ticks.plain({ id, n: i }, { messageId: id });
    }).then(() => waitFor(() => [...sentAt.keys()].every((id) => received.has(id)))).then(() => [...sentAt].map(([id, at]) => received.get(id)! - at));
    line(`outbox commit → consumer at ${rate} msg/s (${outboxLatency.length} msgs)`, `p50 ${percentile(outboxLatency, 50).toFixed(1)} ms, p99 ${percentile(outboxLatency, 99).toFixed(1)} ms`);
    line(`plain publish → consumer at ${rate} msg/s (${plainLatency.length} msgs)`, `p50 ${percentile(plainLatency, 50).toFixed(1)} ms, p99 ${percentile(plainLatency, 99).toFixed(1)} ms`);

    // 3. Transactional inbox overhead per message: publish n (500 confirms in flight) and consume
    // them, first plain, then with the inbox; wall time from the first publish to the last handler.
    const consumeRate = async (label: string) => {
      worked = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => app.get(Ticks).work({ id: `${label}${i + k}`, n: i + k }, { messageId: `${label}${i + k}` })));
      await waitFor(() => worked >= n, 300_000);
      return n / ((performance.now() - t0) / 1000);
    };
    const plainConsume = await consumeRate('c');
    await app.close();
    app = await start(true);
    const inboxConsume = await consumeRate('i');
    line(`consume, empty handler (${n}, 20 at a time)`, `${plainConsume.toFixed(0)} msg/s`);
    line(`consume in the transactional inbox (${n}, 20 at a time)`, `${inboxConsume.toFixed(0)} msg/s`);
    line('transactional inbox overhead per message', `${(1000 / inboxConsume - 1000 / plainConsume).toFixed(2)} ms of wall time at 20 in flight (${((1000 / inboxConsume - 1000 / plainConsume) * 20).toFixed(1)} ms per handler call)`);
    console.log(`\n| measure | figure |\n|---|---|\n${rows.join('\n')}`);
  } finally {
    await app.transport.deleteQueue(`${exchange}.sink`).catch(() => undefined);
    await app.transport.deleteQueue(`${exchange}.work`).catch(() => undefined);
    await app.transport.deleteQueue(`${exchange}.sink.dlq`).catch(() => undefined);
    await app.transport.deleteQueue(`${exchange}.work.dlq`).catch(() => undefined);
    await app.transport.deleteExchange(exchange).catch(() => undefined);
    await app.close();
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
  }
}

/** Calls `send(i)` at `rate` per second for `seconds`, paced by the clock; resolves when all have resolved. */
async function paced(rate: number, seconds: number, send: (i: number) => Promise<void>): Promise<void> {
  const total = Math.round(rate * seconds);
  const began = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - began) * rate) / 1000));
    for (; sent < due; sent++) pending.push(send(sent));
    await sleep(1);
  }
  await Promise.all(pending);
}

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the bench did not see every message in time');
    await sleep(5);
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
