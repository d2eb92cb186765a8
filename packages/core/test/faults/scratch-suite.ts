import { execFile } from 'node:child_process';
import { expect } from 'chai';
import { AmqpTransport, type Warren } from '../../src';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { ScratchBroker, scratchNodesAvailable } from './scratch-broker';
import { afterCleanup, afterEachCleanup } from '../support/cleanup';

type ScratchOptions = Parameters<typeof ScratchBroker.start>[0];

/**
 * `describe` for destructive tests on scratch nodes: `start` boots them once for the block (its
 * tests reuse them), they are stopped and deleted afterwards (also when a test failed), and the
 * machine's shared broker must go through the block untouched — same Erlang VM (not restarted), no
 * resource alarm. Like {@link describeWithBroker}, it fails under CI=true when RabbitMQ is missing,
 * and skips locally.
 */
export function describeOnScratchNodes<T extends { stop(): Promise<void> }>(title: string, start: () => Promise<T>, body: (nodes: () => T) => void): void {
  describeWithBroker(title, function () {
    let nodes: T | undefined;
    let sharedBefore: string | undefined;

    before(async function () {
      // A three-node cluster took 69 s to boot and join on a loaded 2-core machine.
      this.timeout(240_000);
      if (!scratchNodesAvailable()) {
        if (process.env.CI === 'true') throw new Error('Fault tests need rabbitmq-server installed to start scratch nodes (CI=true).');
        this.skip();
      }
      sharedBefore = await sharedBrokerState();
      nodes = await start();
    });

    afterCleanup('stop the scratch nodes', () => nodes?.stop(), 60_000);

    after(async function () {
      this.timeout(45_000);
      if (sharedBefore !== undefined) {
        expect(await sharedBrokerState(), 'the shared broker was restarted or raised an alarm during a fault suite').to.equal(sharedBefore);
      }
    });

    body(() => {
      if (!nodes) throw new Error('the scratch nodes are not running');
      return nodes;
    });
  });
}

/** {@link describeOnScratchNodes} with one scratch node. */
export function describeOnScratchBroker(title: string, options: ScratchOptions | (() => ScratchOptions), body: (broker: () => ScratchBroker) => void): void {
  describeOnScratchNodes(title, () => ScratchBroker.start(typeof options === 'function' ? options() : options), body);
}

/**
 * The shared broker's OS pid and alarms, e.g. `{"2934",[]}`, read with the machine's rabbitmqctl
 * (read-only). Undefined when AMQP_URL is not on this machine, where there is nothing to check.
 */
export async function sharedBrokerState(): Promise<string | undefined> {
  const host = new URL(AMQP_URL).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') return undefined;
  const output = await new Promise<string>((resolve, reject) => {
    execFile('rabbitmqctl', ['-q', 'eval', '{os:getpid(), rabbit_alarm:get_alarms()}.'], { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
  const state = output.trim();
  expect(state, 'the shared broker has a resource alarm').to.match(/,\[\]\}$/);
  return state;
}

/**
 * An admin connection straight to the scratch broker (what the broker really sees), and a list for
 * the apps a test starts, closed after each test. Call inside a `describeOnScratchBroker` body.
 */
export function useScratchAdmin(broker: () => ScratchBroker): { admin: () => AmqpTransport; apps: Warren[] } {
  let admin: AmqpTransport | undefined;
  const apps: Warren[] = [];
  before(async () => {
    admin = new AmqpTransport({ url: broker().url });
    await admin.connect();
  });
  afterCleanup('close the admin connection', () => admin?.close());
  afterEachCleanup('close the apps', async () => { for (const app of apps.splice(0)) await app.close(); }, 30_000);
  return { admin: () => admin!, apps };
}
