import { randomBytes } from 'node:crypto';
import { ScratchBroker } from './scratch-broker';
import { describeOnScratchNodes } from './scratch-suite';

/**
 * A RabbitMQ cluster of scratch nodes on this machine: each node is a {@link ScratchBroker} (own node
 * name, AMQP and distribution ports, directories), and all of them share one Erlang cookie of their
 * own, so they can cluster with each other and with nothing else. The nodes boot in parallel; nodes 2…n
 * then join node 1 the way an operator does it (`stop_app`, `join_cluster`, `start_app`).
 */
export class ScratchCluster {
  private constructor(readonly nodes: readonly ScratchBroker[]) {}

  /** Every node's AMQP URL, node 1 first. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** Starts `size` nodes and clusters them; stops whatever it started if any step fails. */
  static async start(size: number): Promise<ScratchCluster> {
    const cookie = randomBytes(16).toString('hex').toUpperCase();
    const booted = await Promise.allSettled(Array.from({ length: size }, () => ScratchBroker.start({ cookie })));
    const nodes = booted.flatMap((b) => (b.status === 'fulfilled' ? [b.value] : []));
    const cluster = new ScratchCluster(nodes);
    try {
      const failed = booted.find((b) => b.status === 'rejected');
      if (failed) throw failed.reason;
      // One node at a time, as RabbitMQ's clustering guide does it.
      for (const node of nodes.slice(1)) {
        await node.ctl('stop_app');
        await node.ctl('join_cluster', nodes[0]!.nodeName);
        await node.ctl('start_app');
      }
      const running = await cluster.runningNodes(nodes[0]!);
      if (running.length !== size) throw new Error(`The scratch cluster runs ${running.length} of ${size} nodes: ${running.join(', ')}`);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The names of the nodes whose RabbitMQ application runs, as `asking` sees the cluster. */
  async runningNodes(asking: ScratchBroker): Promise<string[]> {
    const status = JSON.parse(await asking.ctl('cluster_status', '--formatter', 'json')) as { running_nodes: string[] };
    return [...status.running_nodes].sort();
  }

  /** Stops every node and deletes its directory. Safe to call twice, and after a failed start. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
  }
}

/** {@link describeOnScratchNodes} with a cluster of `size` nodes. */
export function describeOnScratchCluster(title: string, size: number, body: (cluster: () => ScratchCluster) => void): void {
  describeOnScratchNodes(title, async () => {
    const started = Date.now();
    const cluster = await ScratchCluster.start(size);
    console.log(`      cluster | ${size} scratch nodes booted and joined in ${Date.now() - started} ms`);
    return cluster;
  }, body);
}
