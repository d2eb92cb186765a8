import 'reflect-metadata';
import { expect } from 'chai';
import { container, injectable } from 'tsyringe';
import { AmqpTransport, Consumer, Warren } from '../../src';
import { eventually, Ledger, publishAll } from './ledger';
import type { ScratchBroker } from './scratch-broker';
import { describeOnScratchCluster } from './scratch-cluster';
import { RecordingLogger, scenarioNames, Tick } from './service';
import { afterEachCleanup } from '../support/cleanup';

/** Confirm timeout of the service: publishes caught by the failover fail (typed) rather than wait long. */
const PUBLISH_TIMEOUT_MS = 5_000;
/** Messages in the stream, and how many must be confirmed after the node stopped. */
const TOTAL = 6_000;
const AFTER_STOP = 2_000;

/** Like the other fault suites' handler, on a replicated queue. */
@injectable()
class QuorumTicks {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('${EX}', 'tick', { queue: '${Q}.ticks', queueType: 'quorum', prefetch: 100, concurrency: 20 })
  async tick(tick: Tick): Promise<void> {
    this.ledger.recordHandled(tick.id);
  }
}

describeOnScratchCluster('Under faults: a three-node cluster', 3, (cluster) => {
  let service: Warren | undefined;
  let admin: AmqpTransport | undefined;
  let logger: RecordingLogger | undefined;

  afterEachCleanup('close the service and admin connection', async function () {
    // What the service said is the first clue when failover did not happen.
    if (this.currentTest?.state === 'failed' && logger) console.log(logger.lines.slice(-40).join('\n'));
    await Promise.allSettled([service?.close(), admin?.close()]);
  });

  it('keeps consuming and loses no confirmed message when the connected cluster node stops', async function () {
    // Covers the test's own bounded waits (4 × 30 s) and rabbitmqctl calls, which take seconds each
    // on a loaded machine: it timed out at 60 s in CI with every wait still within its deadline.
    this.timeout(180_000);
    const [node1, node2, node3] = cluster().nodes as [ScratchBroker, ScratchBroker, ScratchBroker];
    const ledger = new Ledger('cluster failover');
    const { exchange, queue, env } = scenarioNames();
    const scope = container.createChildContainer();
    scope.registerInstance(Ledger, ledger);
    logger = new RecordingLogger();
    const name = `warren-cluster-${env.Q!.slice(-8)}`;
    service = await Warren.start({
      url: cluster().urls, name, handlers: [QuorumTicks], container: scope, env, logger, telemetry: false, publishTimeoutMs: PUBLISH_TIMEOUT_MS,
    });
    // The broker's view of the consumer, from a node that stays up.
    admin = new AmqpTransport({ url: [node3.url, node2.url], connectionName: 'warren-cluster-admin' });
    await admin.connect();

    // Failover in order: both connections are on node 1, which also leads the quorum queue.
    expect(await connectionNodes(node2, cluster().nodes, name)).to.deep.equal([node1.nodeName, node1.nodeName]);
    const before = await quorumQueue(node2, queue);
    expect(before.type).to.equal('quorum');
    expect(before.leader).to.equal(node1.nodeName);
    expect(before.members).to.have.members(cluster().nodes.map((n) => n.nodeName));

    let confirmedAtStop: number | undefined;
    const publishing = publishAll(service, ledger, {
      exchange, routingKey: 'tick', prefix: 'cl', count: TOTAL, retryPauseMs: 250,
      until: () => confirmedAtStop !== undefined && ledger.confirmed.size >= confirmedAtStop + AFTER_STOP,
    });
    await eventually('a third of the stream is confirmed', () => ledger.confirmed.size >= TOTAL / 3, 30_000);

    const stopping = Date.now();
    await node1.ctl('stop_app');
    const stopMs = Date.now() - stopping;
    confirmedAtStop = ledger.confirmed.size;
    const handledAtStop = ledger.handled.size;
    await eventually('the consumer is attached again', async () =>
      (await admin!.inspectQueue(queue)).consumerCount === 1 && service!.health().status === 'up', 30_000);
    const backMs = Date.now() - stopping;

    // Re-attached elsewhere: no connection of the service on node 1, and the queue has a new leader.
    const after = await connectionNodes(node2, cluster().nodes, name);
    expect(after).to.have.length(2);
    expect(after).to.not.include(node1.nodeName);
    const moved = await quorumQueue(node2, queue);
    expect(moved.leader).to.be.oneOf([node2.nodeName, node3.nodeName]);

    await eventually(`${AFTER_STOP} more messages are confirmed after the stop`, () => ledger.confirmed.size >= confirmedAtStop! + AFTER_STOP, 30_000);
    await publishing;
    await eventually('every confirmed message is handled', () => ledger.lost().length === 0, 30_000).catch(() => undefined);

    ledger.print({
      'stop_app ms': stopMs,
      'consumer back ms': backMs,
      'confirmed after stop': ledger.confirmed.size - confirmedAtStop,
      'handled after stop': ledger.handled.size - handledAtStop,
      'leader': `node1→node${cluster().nodes.findIndex((n) => n.nodeName === moved.leader) + 1}`,
      'connections': `node1→node${cluster().nodes.findIndex((n) => n.nodeName === after[0]) + 1}`,
      'slowest publish ms': ledger.slowestPublishMs,
    });
    expect(ledger.lost()).to.deep.equal([]);
    expect(ledger.handled.size - handledAtStop).to.be.greaterThan(AFTER_STOP / 2);
    expect(ledger.untypedFailures()).to.deep.equal([]);
    expect(ledger.slowestPublishMs).to.be.at.most(PUBLISH_TIMEOUT_MS + 2_000);
  });
});

/**
 * The node of each of the service's connections (consume and publish, named `<name>-…`), sorted: a
 * connection's server port is the AMQP port of the node it is on.
 */
async function connectionNodes(asking: ScratchBroker, nodes: readonly ScratchBroker[], name: string): Promise<string[]> {
  type Row = { port: number; client_properties: Array<[string, string, unknown]> };
  const rows = JSON.parse(await asking.ctl('list_connections', 'port', 'client_properties', '--formatter', 'json')) as Row[];
  return rows
    .filter((r) => String(r.client_properties.find(([key]) => key === 'connection_name')?.[2] ?? '').startsWith(`${name}-`))
    .map((r) => nodes.find((n) => n.port === r.port)?.nodeName ?? `port ${r.port}`)
    .sort();
}

/** A queue's type, and for a quorum queue its leader and members, as the cluster reports them. */
async function quorumQueue(asking: ScratchBroker, queue: string): Promise<{ type: string; leader: string; members: string[] }> {
  const rows = JSON.parse(await asking.ctl('list_queues', 'name', 'type', 'leader', 'members', '--formatter', 'json')) as Array<{ name: string; type: string; leader: string; members: string[] }>;
  const row = rows.find((r) => r.name === queue);
  if (!row) throw new Error(`queue ${queue} is not in the cluster`);
  return row;
}
