import { injectable, singleton } from 'tsyringe';
import { Consumer, MessageContext, Publisher, reject, route } from '@warren/core';
import { MoneyMoved } from './messages';

// Renamable per environment (and per test run).
const LEDGER = '${LEDGER_EXCHANGE:-ledger}';
/** The stream: every account event, kept 30 days, read by any number of services. */
const LOG = `${LEDGER}.log`;

/** Where account events are published. The stream is bound to `account.#`. */
@Publisher(LEDGER, { type: 'topic' })
export class AccountEvents {
  readonly deposited = route('account.deposited', MoneyMoved);
  readonly withdrawn = route('account.withdrawn', MoneyMoved);
}

/** Balances by account, in cents: the live projection of the log. */
@singleton()
export class BalanceBook {
  readonly balances = new Map<string, number>();
  /** The last offset applied: a projection that stores it with its state can skip what it has seen. */
  lastOffset: number | undefined;

  of(accountId: string): number {
    return this.balances.get(accountId) ?? 0;
  }
}

/**
 * The live projection, in the `balances` service: reads the log from the beginning the first time,
 * then from where it stopped (its offset store). A withdrawal the account cannot cover is
 * rejected: it is dead-lettered to `<log>.dlq` with the reason, and the projection reads on.
 */
@injectable()
export class Balances {
  constructor(private readonly book: BalanceBook) {}

  @Consumer(LEDGER, 'account.#', { exchangeType: 'topic', queue: LOG, queueType: 'stream', offset: 'first', maxAge: '30d', prefetch: 50, concurrency: 1 })
  async apply(event: MoneyMoved, ctx: MessageContext): Promise<unknown> {
    const balance = this.book.of(event.accountId);
    const change = ctx.routingKey === 'account.withdrawn' ? -event.cents : event.cents;
    if (balance + change < 0) return reject(`account ${event.accountId} holds ${balance} cents, cannot withdraw ${event.cents}`);
    this.book.balances.set(event.accountId, balance + change);
    this.book.lastOffset = ctx.streamOffset;
    return undefined;
  }
}

/** Statement lines by account, as the `statements` service builds them. */
@singleton()
export class StatementBook {
  readonly lines = new Map<string, string[]>();

  of(accountId: string): string[] {
    return this.lines.get(accountId) ?? [];
  }
}

/**
 * A second reader of the same log, in another service (`statements`) that started later: it has its
 * own offset, reads from the beginning, and sees every event — withdrawals the balances service
 * refused included, as the log holds them.
 */
@injectable()
export class Statements {
  constructor(private readonly book: StatementBook) {}

  @Consumer(LEDGER, 'account.#', { exchangeType: 'topic', queue: LOG, queueType: 'stream', offset: 'first', maxAge: '30d', prefetch: 50, concurrency: 1 })
  async record(event: MoneyMoved, ctx: MessageContext): Promise<void> {
    const line = `#${ctx.streamOffset} ${ctx.routingKey === 'account.withdrawn' ? '-' : '+'}${event.cents}`;
    this.book.lines.set(event.accountId, [...this.book.of(event.accountId), line]);
  }
}

/** What each service runs: one stream consumer each (a stream has no competing consumers). */
export const SERVICES = { balances: [Balances], statements: [Statements] } as const;
