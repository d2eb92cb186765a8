/**
 * A Warren service whose handler kills its own process on one message, for the redelivery-guard
 * test: the test restarts it in a loop and watches the message end in the dead-letter queue.
 *
 * Environment: AMQP_URL, EX and Q (exchange and queue prefix), QUEUE_TYPE (`classic` / `quorum`),
 * REDELIVERY_LIMIT, HANDLED_FILE (one finished id per line, written before the handler returns).
 */
import 'reflect-metadata';
import { openSync, writeSync } from 'node:fs';
import { injectable } from 'tsyringe';
import { Consumer, Warren } from '../../src';
import { Tick } from './service';

const handled = openSync(process.env.HANDLED_FILE!, 'a');

@injectable()
class Jobs {
  @Consumer('${EX}', 'tick', {
    queue: '${Q}.ticks', prefetch: 10, concurrency: 5,
    queueType: process.env.QUEUE_TYPE === 'quorum' ? 'quorum' : 'classic',
    redeliveryLimit: Number(process.env.REDELIVERY_LIMIT),
  })
  async tick(tick: Tick): Promise<void> {
    // The process dies with the message unsettled, as it would on an out-of-memory kill.
    if (tick.id === 'poison') process.exit(3);
    await new Promise((resolve) => setTimeout(resolve, 2));
    writeSync(handled, `${tick.id}\n`);
  }
}

Warren.run({ url: process.env.AMQP_URL, handlers: [Jobs], telemetry: false, name: 'crashing-service' })
  .then(() => process.stdout.write('ready\n'))
  .catch((error: Error) => {
    process.stderr.write(`failed to start: ${error.message}\n`);
    process.exit(2);
  });
