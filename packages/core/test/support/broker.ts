import { randomBytes } from 'node:crypto';
import * as net from 'node:net';

/** The broker the integration tests use; CI's is the machine's RabbitMQ on 127.0.0.1:5672. */
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A name no other test uses, so tests can run against a shared broker and clean up after themselves. */
export function uniqueName(prefix: string): string {
  return `warren-test.${prefix}.${randomBytes(4).toString('hex')}`;
}

let reachable: Promise<boolean> | undefined;

/** Whether something accepts TCP connections at AMQP_URL's host and port (checked once per run). */
export function brokerReachable(): Promise<boolean> {
  reachable ??= new Promise((resolve) => {
    const url = new URL(AMQP_URL);
    const port = Number(url.port || (url.protocol === 'amqps:' ? 5671 : 5672));
    const socket = net.connect({ host: url.hostname, port, timeout: 2000 });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
  return reachable;
}

/**
 * `describe` for tests that need RabbitMQ. Without a broker they are skipped locally, but under
 * CI=true (or WARREN_REQUIRE_BROKER=1) they fail: a CI run that silently skipped them would prove
 * nothing. WARREN_SKIP_BROKER=1 skips them on purpose (`npm run test:unit`).
 */
export function describeWithBroker(title: string, body: (this: Mocha.Suite) => void): void {
  describe(`${title} (RabbitMQ)`, function () {
    before(async function () {
      if (process.env.WARREN_SKIP_BROKER === '1') return this.skip();
      if (await brokerReachable()) return;
      if (process.env.CI === 'true' || process.env.WARREN_REQUIRE_BROKER === '1') {
        throw new Error(`RabbitMQ is required (CI=true) but nothing answers at ${new URL(AMQP_URL).host}`);
      }
      this.skip();
    });
    body.call(this);
  });
}
