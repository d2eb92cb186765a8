/**
 * A Warren service run by `Warren.run()`, for the SIGTERM test: the test starts it as a child
 * process, sends it SIGTERM with messages in flight, and reads back which messages it finished.
 *
 * Environment: AMQP_URL, EX and Q (the exchange and queue prefix), HANDLED_FILE (one finished id per
 * line, written before the handler returns, i.e. before the ack), SHUTDOWN_MS (shutdownTimeoutMs).
 * A `hang-*` message is written as `started <id>` and never settles: the process must still exit.
 */
import 'reflect-metadata';
import { openSync, writeSync } from 'node:fs';
import { injectable } from 'tsyringe';
import { Consumer, Warren } from '../../src';
import { Tick } from './service';

const handled = openSync(process.env.HANDLED_FILE!, 'a');

/** 100 ms of work per message, 50 at a time, up to 1,000 unacknowledged: a deep in-flight window. */
@injectable()
class SlowTicks {
  @Consumer('${EX}', 'tick', { queue: '${Q}.ticks', prefetch: 1_000, concurrency: 50 })
  async tick(tick: Tick): Promise<void> {
    if (tick.id.startsWith('hang-')) {
      writeSync(handled, `started ${tick.id}\n`);
      await new Promise(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    writeSync(handled, `${tick.id}\n`);
  }
}

const shutdownTimeoutMs = process.env.SHUTDOWN_MS ? Number(process.env.SHUTDOWN_MS) : undefined;
Warren.run({ url: process.env.AMQP_URL, handlers: [SlowTicks], telemetry: false, name: 'sigterm-service', shutdownTimeoutMs })
  .then(() => process.stdout.write('ready\n'))
  .catch((error: Error) => {
    process.stderr.write(`failed to start: ${error.message}\n`);
    process.exit(2);
  });
