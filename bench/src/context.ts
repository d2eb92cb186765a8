import type { Connection } from 'rabbitmq-client';
import { brokerCpuReader, Cleanup, queueDeclaration, rawConnection } from './broker';
import type { BenchConfig } from './config';
import { sleep } from './stats';

/** What every scenario shares: the config, an admin connection for set-up, and the cleanup list. */
export class BenchContext {
  readonly admin: Connection;
  readonly cleanup = new Cleanup();
  readonly brokerCpu: () => number | undefined;
  private counter = 0;

  constructor(readonly config: BenchConfig) {
    this.admin = rawConnection(config.url, 'warren-bench-admin');
    this.brokerCpu = brokerCpuReader(Number(new URL(config.url).port || 5672));
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
