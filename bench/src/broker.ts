import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Connection } from 'rabbitmq-client';
import { DEAD_LETTER_EXCHANGE } from '@warren/core';
import { windowed } from './stats';

/**
 * The raw side's plumbing: rabbitmq-client connections configured as Warren configures its own
 * (TCP_NODELAY on, one connection per role), queues declared with exactly the arguments a Warren
 * consumer declares, pre-filling, and cleanup of everything a run created.
 */

/** A raw connection with TCP_NODELAY, as Warren opens its own: with Nagle on, request/reply crawls at ~44 req/s. */
export function rawConnection(url: string, name: string): Connection {
  const connection = new Connection({ url, noDelay: true, connectionName: name, retryLow: 200, retryHigh: 1000 });
  connection.on('error', (err) => console.error(`[${name}]`, err));
  return connection;
}

/**
 * The arguments Warren gives a consumer queue (see consumer-plan.ts topologyOf): the raw consumer
 * reads from a queue declared the same way, so both sides hit the same broker code path.
 */
export function warrenQueueArguments(queue: string): Record<string, unknown> {
  return { 'x-queue-type': 'classic', 'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE, 'x-dead-letter-routing-key': queue };
}

export function queueDeclaration(queue: string) {
  return { queue, durable: true, exclusive: false, autoDelete: false, arguments: warrenQueueArguments(queue) };
}

/** Everything one bench run declared, deleted at the end (also after a failure). */
export class Cleanup {
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();

  queue(name: string): string {
    this.queues.add(name);
    this.queues.add(`${name}.dlq`); // Warren declares a dead-letter queue next to every consumer queue
    return name;
  }

  exchange(name: string): string {
    this.exchanges.add(name);
    return name;
  }

  async run(connection: Connection): Promise<void> {
    for (const queue of this.queues) await connection.queueDelete({ queue }).catch(() => undefined);
    for (const exchange of this.exchanges) await connection.exchangeDelete({ exchange }).catch(() => undefined);
    this.queues.clear();
    this.exchanges.clear();
  }
}

/** Publishes `bodies` (cycled) to `queue` through the default exchange, persistent and confirmed, 1,000 in flight. */
export async function prefill(connection: Connection, queue: string, count: number, bodies: readonly Buffer[]): Promise<void> {
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 1 });
  try {
    await windowed(count, 1000, (i) => publisher.send(
      { routingKey: queue, durable: true, contentType: 'application/json', messageId: `prefill-${i}`, timestamp: Math.floor(Date.now() / 1000) },
      bodies[i % bodies.length],
    ));
  } finally {
    await publisher.close();
  }
  const { messageCount } = await connection.queueDeclare({ queue, passive: true });
  if (messageCount !== count) throw new Error(`pre-filling ${queue}: expected ${count} messages, the broker holds ${messageCount}`);
}

/** Cumulative CPU µs (user + system) of process `pid`, from /proc/<pid>/stat; undefined once it is gone. */
export function processCpuReader(pid: number): () => number | undefined {
  const ticksPerSecond = 100; // USER_HZ on Linux
  return () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of /proc/pid/stat; fields[0] here is field 3.
      return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1e6;
    } catch {
      return undefined;
    }
  };
}

/**
 * The pid of the process with a listening TCP socket on `port` (the local RabbitMQ node), via
 * /proc/net/tcp{,6} and /proc/<pid>/fd; undefined when it is not on this machine. Found by its
 * socket, not by name: tests start scratch nodes beside it. Its CPU shows which side is the
 * bottleneck: issue 6 found the broker using a full core.
 */
export function findListener(port: number): number | undefined {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try { text = readFileSync(table, 'utf8'); } catch { continue; }
      for (const row of text.split('\n').slice(1)) {
        const cols = row.trim().split(/\s+/);
        // local_address is "IP:PORT"; state 0A is LISTEN; the inode is column 10.
        if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]!);
      }
    }
    if (inodes.size === 0) return undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        for (const fd of readdirSync(`/proc/${entry}/fd`)) {
          const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
          if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return Number(entry);
        }
      } catch { /* gone, or not ours to read */ }
    }
  } catch { /* no /proc */ }
  return undefined;
}
