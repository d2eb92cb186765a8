import { WarrenError, type Warren } from '../../src';

/**
 * The books of one fault scenario. Every message carries a unique id; a message counts as
 * `confirmed` once its publish call resolved (the broker took responsibility for it) and as
 * `handled` once a handler finished it. `lost = confirmed − handled` must be empty; duplicates are
 * allowed (at-least-once) and reported.
 */
export class Ledger {
  readonly confirmed = new Set<string>();
  readonly handled = new Set<string>();
  /** Handler completions, counting redeliveries. */
  deliveries = 0;
  /** Every publish call that rejected, with the error it rejected with. */
  readonly publishFailures: unknown[] = [];
  /** The longest a publish call took to settle, in ms (a hanging call would show here). */
  slowestPublishMs = 0;

  constructor(readonly scenario: string) {}

  recordHandled(id: string): void {
    this.deliveries++;
    this.handled.add(id);
  }

  /** Ids confirmed to the publisher but never handled. */
  lost(): string[] {
    return [...this.confirmed].filter((id) => !this.handled.has(id));
  }

  get duplicates(): number {
    return this.deliveries - this.handled.size;
  }

  /** Publish failures that are not typed WarrenErrors (they must not exist). */
  untypedFailures(): unknown[] {
    return this.publishFailures.filter((e) => !(e instanceof WarrenError));
  }

  /** One line per scenario, so CI output carries the figures. */
  print(extra: Record<string, string | number> = {}): void {
    const figures = {
      confirmed: this.confirmed.size,
      handled: this.handled.size,
      lost: this.lost().length,
      duplicates: this.duplicates,
      'publish errors': this.publishFailures.length,
      ...extra,
    };
    console.log(`      ledger | ${this.scenario} | ${Object.entries(figures).map(([k, v]) => `${k} ${v}`).join(' | ')}`);
  }
}

/**
 * Publishes `count` messages `{ id }` with up to `inFlight` confirmed publishes at a time — and goes
 * on publishing past `count` until `until()` holds, so faults always meet a live stream. A publish
 * that fails is recorded and tried again (same id) after a pause, as an application would; only a
 * resolved publish counts as confirmed. Resolves when every message is confirmed.
 */
export async function publishAll(app: Warren, ledger: Ledger, target: { exchange: string; routingKey: string; prefix: string; count: number; until?: () => boolean; inFlight?: number; retryPauseMs?: number }): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < target.count || (target.until && !target.until())) {
      const id = `${target.prefix}-${next++}`;
      while (true) {
        const started = Date.now();
        try {
          await app.publish(target.exchange, target.routingKey, { id }, { messageId: id });
          ledger.confirmed.add(id);
          break;
        } catch (error) {
          ledger.publishFailures.push(error);
          await new Promise((resolve) => setTimeout(resolve, target.retryPauseMs ?? 100));
        } finally {
          ledger.slowestPublishMs = Math.max(ledger.slowestPublishMs, Date.now() - started);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: target.inFlight ?? 32 }, worker));
}

/** Resolves once `condition` holds, polling; rejects with `what` after `timeoutMs`. */
export async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 25): Promise<number> {
  const started = Date.now();
  while (true) {
    let met = false;
    try { met = await condition(); } catch { met = false; }
    if (met) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Scale of the stream scenarios: CI figures by default, the soak's with WARREN_SOAK=1. */
export const SOAK = process.env.WARREN_SOAK === '1';
