import type { Connection } from 'rabbitmq-client';
import { Cleanup, findListener, processCpuReader, queueDeclaration, rawConnection } from './broker';
import type { BenchConfig } from './config';
import { sleep } from './stats';

/** What a context needs of a run's configuration (the peers bench has its own). */
export type ContextConfig = Pick<BenchConfig, 'url' | 'runId' | 'settleMs'>;

/** What every scenario shares: the config, an admin connection for set-up, and the cleanup list. */
export class BenchContext<C extends ContextConfig = BenchConfig> {
  readonly admin: Connection;
  readonly cleanup = new Cleanup();
  /** Cumulative CPU µs of the broker, when it runs on this machine. */
  readonly brokerCpu: () => number | undefined;
  /** The broker's process, found by its listening socket (undefined when it is elsewhere). */
  readonly brokerPid: number | undefined;
  private counter = 0;

  constructor(readonly config: C) {
    this.admin = rawConnection(config.url, 'warren-bench-admin');
    this.brokerPid = findListener(Number(new URL(config.url).port || 5672));
    const pid = this.brokerPid;
    this.brokerCpu = pid === undefined ? () => undefined : processCpuReader(pid);
  }

  /** A unique queue or exchange name under this run's prefix. */
  name(...parts: Array<string | number>): string {
    return [this.config.runId, ...parts, ++this.counter].join('.');
  }

  /** Declares a consumer queue as Warren would, remembering it (and its .dlq) for cleanup. */
  async declareQueue(queue: string): Promise<string> {
    await this.admin.queueDeclare(queueDeclaration(this.cleanup.queue(queue)));
    return queue;
  }

  /** Deletes a queue (and the dead-letter queue Warren adds) now, freeing the broker's memory and disk. */
  async dropQueue(queue: string): Promise<void> {
    await this.admin.queueDelete({ queue }).catch(() => undefined);
    await this.admin.queueDelete({ queue: `${queue}.dlq` }).catch(() => undefined);
  }

  settle(): Promise<void> {
    return sleep(this.config.settleMs);
  }

  /** A generous limit for a run of `messages` (at 200 msg/s), so a stuck run fails instead of hanging. */
  timeoutFor(messages: number): number {
    return 30_000 + (messages / 200) * 1000;
  }

  async close(): Promise<void> {
    await this.cleanup.run(this.admin);
    await this.admin.close();
  }
}
