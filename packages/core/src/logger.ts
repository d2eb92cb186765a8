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
  const threshold = LEVELS[options.level ?? envLevel()];
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

function envLevel(): LogLevel {
  const level = process.env.WARREN_LOG_LEVEL as LogLevel | undefined;
  return level && level in LEVELS ? level : 'info';
}

/** `json`: one JSON object per line (for log collectors); `pretty`: one readable line (for a terminal). */
export type LogFormat = 'json' | 'pretty';

/**
 * One readable line per entry on stderr, for a developer's terminal:
 * `12:00:01.234 INFO  billing warren started consumers=[…]`. Same levels and redaction as
 * {@link jsonLogger}.
 */
export function prettyLogger(options: { level?: LogLevel; write?: (line: string) => void; name?: string; color?: boolean } = {}): Logger {
  const threshold = LEVELS[options.level ?? envLevel()];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const name = options.name ?? 'warren';
  const color = options.color ?? false;
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const tint = { debug: 90, info: 36, warn: 33, error: 31 } as const;
  const log = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const time = new Date().toISOString().slice(11, 23);
    const extra = Object.entries(fields ?? {}).filter(([, value]) => value !== undefined).map(([key, value]) => `${paint(90, `${key}=`)}${formatValue(value)}`);
    write(redactText([paint(90, time), paint(tint[level], level.toUpperCase().padEnd(5)), paint(90, name), message, ...extra].join(' '), []));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(`${value.name}: ${value.message}`);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * The logger `Warren.start` uses when none is given: {@link prettyLogger} when stderr is a terminal,
 * {@link jsonLogger} otherwise; `WARREN_LOG_FORMAT=json|pretty` decides instead when set.
 *
 * @example
 * ```ts
 * const logger = defaultLogger({ name: 'billing' }); // WARREN_LOG_FORMAT=json node dist/src/main.js forces JSON
 * ```
 */
export function defaultLogger(options: { name?: string; env?: Record<string, string | undefined>; tty?: boolean; write?: (line: string) => void } = {}): Logger {
  const env = options.env ?? process.env;
  const tty = options.tty ?? process.stderr.isTTY === true;
  const format: LogFormat = env.WARREN_LOG_FORMAT === 'json' || env.WARREN_LOG_FORMAT === 'pretty' ? env.WARREN_LOG_FORMAT : tty ? 'pretty' : 'json';
  return format === 'pretty'
    ? prettyLogger({ name: options.name, write: options.write, color: tty && env.NO_COLOR === undefined })
    : jsonLogger({ name: options.name, write: options.write });
}

/**
 * A logger that adds `fields` to every entry (entry fields win): `ctx.logger` is the app's logger
 * bound to the consumer and the message id.
 */
export function bindLogger(logger: Logger, fields: LogFields): Logger {
  const bound = (level: Exclude<LogLevel, 'silent'>) => (message: string, extra?: LogFields) => logger[level](message, { ...fields, ...extra });
  return { debug: bound('debug'), info: bound('info'), warn: bound('warn'), error: bound('error') };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
