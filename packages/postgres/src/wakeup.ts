import type { Logger } from '@warren/core';
import { Client, type Pool } from 'pg';
import { quoteIdent } from './tables';

/**
 * Wakes the relay when a transaction that wrote to the outbox commits (LISTEN / NOTIFY). Its own
 * connection, outside the pool; lost, it reconnects every few seconds while the relay polls.
 */
export class RelayWakeup {
  private client?: Client;
  private waiter?: () => void;
  private pending = false;
  private closed = false;
  private reconnect?: NodeJS.Timeout;

  constructor(private readonly pool: Pool, private readonly channel: string, private readonly logger: Logger, private readonly reconnectMs = 2000) {}

  listen(): void {
    if (this.closed) return;
    const client = new Client(this.pool.options);
    this.client = client;
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.logger.warn('outbox relay lost its LISTEN connection; polling until it is back', { error: error?.message });
      this.reconnect = setTimeout(() => this.listen(), this.reconnectMs);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', () => this.wake());
    client.connect()
      .then(() => client.query(`LISTEN ${quoteIdent(this.channel)}`))
      // Rows committed while we were not listening are found by this wake-up's round.
      .then(() => this.wake(), (error: Error) => lost(error));
  }

  /** Resolves on the next NOTIFY (or one that came since the last wait), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.pending || this.closed) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.waiter === done) self.waiter = undefined;
        resolve();
      }
      this.waiter = done;
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnect);
    this.wake();
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
  }

  private wake(): void {
    if (this.waiter) this.waiter();
    else this.pending = true;
  }
}
