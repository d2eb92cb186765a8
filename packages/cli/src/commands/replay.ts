import { ConfigurationError, redactUrl, type StreamOffset, type WarrenOptions } from '@warren/core';
import { ExitCode } from '../exit-codes';
import { loadService } from '../service-loader';

export interface ReplayCommandOptions {
  /** Where to start: an offset, an ISO 8601 time, a span back from now (`2h`), or `first`. */
  since: string;
  /** The last offset to replay (default: the consumer's stored offset, else until nothing more arrives). */
  until?: string;
  /** Stop once nothing has arrived for this many ms (default 3,000). */
  idleMs?: string;
  /** Broker URL (default: the service's own, else $AMQP_URL). */
  url?: string;
}

/**
 * `warren replay <consumer> <entry...> --since <time|offset>`: reads a stream consumer's stream again
 * through the consumer's own handler, in this process, as a second reader.
 *
 * The entry is the service's compiled main module (or its handler modules): loading it records the
 * options its `Warren.start` / `Warren.run` call passes (container registrations, offset store,
 * URL…), and the command starts the service with them, attaching no consumer (`consume: false`),
 * then runs `app.replay()` for the one consumer. Its offset store is read for the default end
 * (what the consumer has processed) and never written. Progress and the service's logs go to
 * stderr; the summary to stdout. Exit 1 when messages were dead-lettered on the way.
 */
export async function replayCommand(consumer: string, entries: string[], options: ReplayCommandOptions): Promise<ExitCode> {
  const since = parseSince(options.since);
  const until = options.until === undefined ? undefined : wholeNumber(options.until, '--until');
  const idleMs = options.idleMs === undefined ? undefined : wholeNumber(options.idleMs, '--idle-ms');
  const service = loadService(entries);
  const plan = service.consumers.find((c) => c.id === consumer || c.queue === consumer);
  const streams = service.consumers.filter((c) => c.stream).map((c) => c.id);
  if (!plan) throw new ConfigurationError(`No consumer ${consumer} in ${entries.join(', ')}. Its stream consumers: ${streams.join(', ') || '(none)'}.`);
  if (!plan.stream) throw new ConfigurationError(`${plan.id} consumes a ${plan.queueType} queue, not a stream: only streams can be replayed (${streams.length ? `stream consumers: ${streams.join(', ')}` : 'this service has no stream consumer'}). For dead letters, use warren dlq replay.`);
  const handlerClass = plan.definition.handlerClass;
  const recorded = (service.started.find((o) => Array.isArray(o.handlers) && o.handlers.includes(handlerClass)) ?? service.started[0] ?? {}) as WarrenOptions;
  const url = options.url ?? recorded.url ?? process.env.AMQP_URL;
  if (!url) throw new ConfigurationError('No broker URL: pass --url amqp://user:password@host:5672/vhost, set AMQP_URL, or give the service a url.');

  // Loaded: from here on the service really starts (the CLI's introspection mode ends).
  service.core.activeIntrospection()?.end();
  const app = await service.core.Warren.start({
    ...recorded,
    url, transport: undefined, waitForBroker: false, health: undefined, consume: false,
    handlers: recorded.handlers ?? [handlerClass],
    logger: recorded.logger ?? service.core.jsonLogger({ level: 'warn', write: (line) => process.stderr.write(`${line}\n`) }),
  });
  try {
    process.stderr.write(`replaying ${plan.id} (stream ${plan.queue}) on ${redactUrl(typeof url === 'string' ? url : url.join(','))} from ${options.since}…\n`);
    const report = await app.replay(plan.id, { since, until, idleMs });
    const range = report.first === undefined ? 'no message in range' : `offsets ${report.first}…${report.last}`;
    const end = report.stoppedBy === 'until' ? `reached offset ${report.until}` : report.stoppedBy === 'idle' ? 'nothing more arrived' : 'timed out';
    process.stdout.write(`replayed ${report.handled + report.deadLettered} message(s) of ${report.stream} through ${report.consumer} (${range}): ${report.handled} handled, ${report.deadLettered} dead-lettered; stopped: ${end}.\n`);
    return report.deadLettered > 0 ? ExitCode.FINDINGS : ExitCode.OK;
  } finally {
    await app.close();
  }
}

/** `--since`: an offset (digits), `first`, a span (`30s`, `15m`, `2h`, `7d`), or an ISO 8601 time. */
export function parseSince(text: string): StreamOffset {
  if (/^\d+$/.test(text)) return wholeNumber(text, '--since');
  if (text === 'first' || text === 'last' || text === 'next') return text;
  if (/^\d+[smhd]$/.test(text)) return text as StreamOffset;
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : undefined;
  if (time && !Number.isNaN(time.getTime())) return time;
  throw new ConfigurationError(`--since ${JSON.stringify(text)} is not an offset (e.g. 1042), a time (e.g. 2024-05-01T12:00:00Z), a span back from now (30s, 15m, 2h, 7d) or "first".`);
}

function wholeNumber(text: string, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new ConfigurationError(`${what} must be a whole number ≥ 0 (got "${text}").`);
  return value;
}
