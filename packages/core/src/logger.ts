import { redactText } from './redact';

/** Structured fields of a log line: message ids, queue names, error codes… */
export type LogFields = Record<string, unknown>;

/**
 * What Warren logs through. Adapt any logger in a few lines (pino: `{ info: (m, f) => pino.info(f, m), … }`).
 *
 * @example
 * ```ts
 * const logger: Logger = { debug() {}, info: console.log, warn: console.warn, error: console.error };
 * await Warren.start({ handlers: [Billing], logger });
 * ```
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/**
 * The default logger: one JSON object per line on stderr, at `WARREN_LOG_LEVEL` (default `info`).
 * Text that looks like a URL has its password replaced, as a second line of defence.
 */
export function jsonLogger(options: { level?: LogLevel; write?: (line: string) => void; name?: string } = {}): Logger {
  const envLevel = process.env.WARREN_LOG_LEVEL as LogLevel | undefined;
  const threshold = LEVELS[options.level ?? (envLevel && envLevel in LEVELS ? envLevel : 'info')];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const name = options.name ?? 'warren';
  const log = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, name, msg: message, ...fields }, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message, code: (value as { code?: unknown }).code } : value);
    write(redactText(line, []));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
