import { ConfigurationError, redactUrl, type Transport } from '@warren/core';
import { connectTo } from '../broker-connection';
import { deadLetterFilter, listDeadLetters, replayDeadLetters, type DeadLetter } from '@warren/core';
import { ExitCode } from '../exit-codes';

export interface DlqOptions {
  url?: string;
  limit?: string;
  filter?: string;
  /** replay: the consumer queue to send messages back to (default: the DLQ's name without `.dlq`). */
  queue?: string;
  json?: boolean;
}

function brokerUrl(options: DlqOptions): string {
  const url = options.url ?? process.env.AMQP_URL;
  if (!url) throw new ConfigurationError('No broker URL: pass --url amqp://user:password@host:5672/vhost or set AMQP_URL.');
  return url;
}

/** Does the queue exist? False only for the broker's NOT_FOUND; other errors propagate. */
async function queueExists(transport: Transport, queue: string): Promise<boolean> {
  try {
    await transport.inspectQueue(queue);
    return true;
  } catch (error) {
    if (/NOT_FOUND/.test((error as Error).message)) return false;
    throw error;
  }
}

/**
 * Connects and checks the queue the command reads: the dead-letter queue named on the command line
 * (said on stderr). A missing queue gets a hint; a consumer queue given in place of its `.dlq` gets
 * a note, since reading it is allowed but rarely meant.
 */
async function openQueue(queue: string, options: DlqOptions): Promise<Transport> {
  const url = brokerUrl(options);
  const transport = await connectTo(url, 'dlq');
  try {
    process.stderr.write(`reading queue ${queue} on ${redactUrl(url)}\n`);
    const exists = await queueExists(transport, queue);
    const deadLetterQueue = queue.endsWith('.dlq') ? undefined : `${queue}.dlq`;
    const dlqExists = deadLetterQueue ? await queueExists(transport, deadLetterQueue) : false;
    if (!exists) {
      throw new ConfigurationError(dlqExists
        ? `No queue ${queue}, but ${deadLetterQueue} exists: pass the dead-letter queue itself (warren dlq … ${deadLetterQueue}).`
        : `No queue ${queue} on ${redactUrl(url)}. Pass a dead-letter queue as it exists on the broker: a consumer's is "<its queue>.dlq" (warren topology <entry> lists them), or the one its deadLetter option names.`);
    }
    if (dlqExists) process.stderr.write(`note: ${queue} is a consumer queue; its dead letters are in ${deadLetterQueue}.\n`);
    return transport;
  } catch (error) {
    await transport.close();
    throw error;
  }
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigurationError(`--limit must be a whole number ≥ 1 (got "${text}").`);
  return limit;
}

function route(letter: DeadLetter): string {
  return letter.origin ? `${letter.origin.exchange || '(default)'} / ${letter.origin.routingKey}` : '(unknown origin)';
}

/** `warren dlq list <queue>`: one line per message, without removing any. */
export async function dlqListCommand(queue: string, options: DlqOptions): Promise<ExitCode> {
  const transport = await openQueue(queue, options);
  try {
    const letters = await listDeadLetters(transport, queue, { limit: parseLimit(options.limit) });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(letters.map(({ body, headers, ...rest }) => ({ ...rest, bytes: body.length })), null, 2)}\n`);
      return ExitCode.OK;
    }
    if (letters.length === 0) process.stdout.write(`${queue} is empty.\n`);
    for (const letter of letters) {
      process.stdout.write(`${letter.messageId ?? '(no message id)'}  ${letter.errorCode ?? '-'}  ${route(letter)}  attempts: ${letter.attempts ?? '-'}\n    ${oneLine(letter.errorMessage ?? '(no x-warren-error-message)', 160)}\n`);
    }
    return ExitCode.OK;
  } finally {
    await transport.close();
  }
}

/** `warren dlq show <queue> [messageId]`: headers and a body preview of one message. */
export async function dlqShowCommand(queue: string, messageId: string | undefined, options: DlqOptions): Promise<ExitCode> {
  const transport = await openQueue(queue, options);
  try {
    const letters = await listDeadLetters(transport, queue, { limit: parseLimit(options.limit) ?? 1000 });
    const letter = messageId ? letters.find((l) => l.messageId === messageId) : letters[0];
    if (!letter) throw new ConfigurationError(messageId ? `No message with id ${messageId} among the first ${letters.length} of ${queue}.` : `${queue} is empty.`);
    const lines = [
      `message id:   ${letter.messageId ?? '(none)'}`,
      `error:        ${letter.errorCode ?? '-'}: ${letter.errorMessage ?? '-'}`,
      ...(letter.errorDetails ? [`details:      ${letter.errorDetails}`] : []),
      `origin:       ${route(letter)}`,
      `attempts:     ${letter.attempts ?? '-'}${letter.consumer ? ` (consumer ${letter.consumer})` : ''}`,
      `content type: ${letter.contentType ?? '(none)'}`,
      'headers:',
      ...Object.entries(letter.headers).map(([name, value]) => `  ${name}: ${JSON.stringify(value)}`),
      `body (${letter.body.length} bytes):`,
      bodyPreview(letter),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return ExitCode.OK;
  } finally {
    await transport.close();
  }
}

/** `warren dlq replay <queue>`: back to the queue that failed them; progress on stderr. */
export async function dlqReplayCommand(queue: string, options: DlqOptions): Promise<ExitCode> {
  const transport = await openQueue(queue, options);
  try {
    const report = await replayDeadLetters(transport, queue, {
      queue: options.queue,
      filter: options.filter ? deadLetterFilter(options.filter) : undefined,
      limit: parseLimit(options.limit),
      onProgress: (done, total) => { if (done % 100 === 0) process.stderr.write(`replayed ${done} of up to ${total}…\n`); },
    });
    for (const failure of report.failed) process.stderr.write(`not replayed ${failure.messageId ?? '(no message id)'}: ${failure.reason}\n`);
    process.stdout.write(`replayed ${report.replayed} message(s) from ${queue}; ${report.skipped} did not match the filter; ${report.failed.length} could not be replayed (left in the queue).\n`);
    return report.failed.length ? ExitCode.FINDINGS : ExitCode.OK;
  } finally {
    await transport.close();
  }
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function bodyPreview(letter: DeadLetter): string {
  const preview = letter.body.subarray(0, 2048);
  const more = letter.body.length > preview.length ? `\n… ${letter.body.length - preview.length} more bytes` : '';
  if (/json|text/.test(letter.contentType ?? 'application/json')) {
    const text = preview.toString('utf8');
    try {
      return `${JSON.stringify(JSON.parse(text), null, 2)}${more}`;
    } catch {
      return `${text}${more}`;
    }
  }
  return `${preview.toString('hex').replace(/(.{64})/g, '$1\n')}${more}`;
}
