import type { Logger } from './logger';

/** What {@link runUntilSignalled} needs of a started app. */
export interface SignalledApp {
  readonly logger: Logger;
  readonly whenClosed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts an app and closes it gracefully on SIGINT / SIGTERM; a second signal exits at once (130).
 * Signals are caught from the first moment: a SIGTERM that arrives while the app starts (a rollout
 * that changed its mind) closes it as soon as it has started, instead of killing it mid-start.
 */
export async function runUntilSignalled<T extends SignalledApp>(start: () => Promise<T>): Promise<T> {
  let app: T | undefined;
  let requested: NodeJS.Signals | undefined;
  const shutdown = (started: T, signal: NodeJS.Signals) => {
    started.logger.info('shutting down', { signal });
    started.close().then(() => process.exit(0), (error: Error) => {
      started.logger.error('shutdown failed', { error: error.message });
      process.exit(1);
    });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) process.exit(130);
    requested = signal;
    if (app) shutdown(app, signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    app = await start();
  } catch (error) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw error;
  }
  // The embedded broker holds no socket: without this the process would exit with nothing to do.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  void app.whenClosed.then(() => clearInterval(keepAlive));
  if (requested) shutdown(app, requested);
  return app;
}
