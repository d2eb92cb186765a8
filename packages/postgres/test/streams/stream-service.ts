/**
 * The service of the offset-store crash test, run as a child process so it can be killed with
 * SIGKILL: a stream consumer that records each event it handles in `<schema>.effects` (no unique
 * key, so repeats can be counted) and keeps its offset in PostgreSQL. Prints `ready` once consuming.
 */
import 'reflect-metadata';
import { IsString } from 'class-validator';
import { Consumer, jsonLogger, Warren, type MessageContext } from '@warren/core';
import { Pool } from 'pg';
import { container, injectable } from 'tsyringe';
import { PostgresOffsetStore } from '../../src';

export class Tick {
  @IsString() id!: string;
}

const env = process.env as Record<string, string>;
let pool: Pool;

/** The figures the test's bound is computed from. */
export const SERVICE_SETTINGS = { every: 10, prefetch: 20, concurrency: 5 } as const;

@injectable()
class Ticks {
  @Consumer('${EX}', 'tick', {
    queue: '${S}', exchangeType: 'topic', queueType: 'stream', offset: 'first',
    prefetch: SERVICE_SETTINGS.prefetch, concurrency: SERVICE_SETTINGS.concurrency, offsetCommit: { every: SERVICE_SETTINGS.every, intervalMs: 200 },
  })
  async tick(tick: Tick, ctx: MessageContext): Promise<void> {
    // Slow enough that the test kills the service in the middle of the stream.
    await new Promise((resolve) => setTimeout(resolve, 10));
    await pool.query(`INSERT INTO ${env.PG_SCHEMA}.effects (id, stream_offset) VALUES ($1, $2)`, [tick.id, ctx.streamOffset]);
  }
}

async function main(): Promise<void> {
  pool = new Pool({ connectionString: env.PG_URL, max: 8, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  await Warren.run({
    url: env.AMQP_URL, env, handlers: [Ticks], container: container.createChildContainer(), telemetry: false,
    logger: jsonLogger({ name: 'offset-service', level: 'warn' }),
    offsetStore: new PostgresOffsetStore({ pool, offsetTable: `${env.PG_SCHEMA}.warren_offsets` }),
  });
  process.stdout.write('ready\n');
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`offset-service failed: ${error.message}\n`);
    process.exit(1);
  });
}
