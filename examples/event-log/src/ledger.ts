import { container } from 'tsyringe';
import { silentLogger, Warren, type SettledEvent, type Transport } from '@warren/core';
import { AccountEvents, BalanceBook, SERVICES, StatementBook } from './handlers';

/** One service of the example, with its own container (so its books are its own). */
export interface LedgerService {
  app: Warren;
  balances: BalanceBook;
  statements: StatementBook;
  /** How each delivery ended, in order. */
  settled: SettledEvent[];
}

/**
 * Starts one of the example's services. Two services must share a broker to share the log: RabbitMQ
 * (`url`), or one in-memory `transport` passed to both.
 */
export async function startService(service: keyof typeof SERVICES, options: { url?: string; transport?: Transport; env?: Record<string, string | undefined> }): Promise<LedgerService> {
  const scope = container.createChildContainer();
  const balances = new BalanceBook();
  const statements = new StatementBook();
  scope.registerInstance(BalanceBook, balances);
  scope.registerInstance(StatementBook, statements);
  const settled: SettledEvent[] = [];
  const app = await Warren.start({
    name: `event-log-${service}`, handlers: [...SERVICES[service]], publishers: [AccountEvents], container: scope,
    url: options.url, transport: options.transport, env: options.env ?? process.env, logger: silentLogger,
    onSettled: (event) => settled.push(event),
  });
  return { app, balances, statements, settled };
}

/** Resolves once `condition` holds; rejects after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition();) {
    if (Date.now() > deadline) throw new Error('the services did not get there in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The history the demo and the tests publish: alice deposits 100.00 and withdraws 25.00, bob deposits
 * 50.00 and tries to withdraw 90.00 (refused by the balances projection).
 */
export async function publishHistory(service: LedgerService): Promise<void> {
  const events = service.app.get(AccountEvents);
  await events.deposited({ accountId: 'alice', cents: 10_000 });
  await events.withdrawn({ accountId: 'alice', cents: 2_500 });
  await events.deposited({ accountId: 'bob', cents: 5_000 });
  await events.withdrawn({ accountId: 'bob', cents: 9_000 });
}
