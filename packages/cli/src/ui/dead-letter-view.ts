import { createHash } from 'node:crypto';
import type { DeadLetter, FieldTable } from '@warren/core';
import type { BodyView, DeadLetterDetail, DeadLetterGroup, DeadLetterRow, Selection } from './api-types';
import { matchesText } from './search';

/** The most of a body the detail view shows; the rest is counted, not sent. */
const BODY_PREVIEW_BYTES = 64 * 1024;
/** The most of one header value the detail view shows. */
const HEADER_PREVIEW_CHARS = 4_000;

/**
 * Dead letters as the console shows them: a fingerprint per message (what actions name it by), the
 * group it belongs to (error code and message), the failure time, and for one message the headers,
 * issues and a body view. Everything is data taken from an untrusted message: it is turned into
 * plain strings here and rendered as text by the page.
 */

/** A stable id for a message: its message id, headers and body, hashed. */
export function fingerprint(letter: DeadLetter): string {
  const hash = createHash('sha256');
  hash.update(letter.messageId ?? '');
  for (const [name, value] of Object.entries(letter.headers)) hash.update(`\u0000${name}\u0000${displayValue(value)}`);
  hash.update('\u0000');
  hash.update(letter.body);
  return hash.digest('base64url').slice(0, 22);
}

/** `CODE: message`, the key a group is shown and selected by. */
export function groupKey(letter: DeadLetter): string {
  return `${letter.errorCode ?? '(no error code)'}: ${letter.errorMessage ?? '(no error message)'}`;
}

function failedAt(letter: DeadLetter): number | undefined {
  const value = letter.headers['x-warren-last-failure'];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

export function deadLetterRow(letter: DeadLetter): DeadLetterRow {
  return {
    id: fingerprint(letter),
    messageId: letter.messageId,
    errorCode: letter.errorCode,
    errorMessage: letter.errorMessage,
    failedAt: failedAt(letter),
    route: letter.origin ? `${letter.origin.exchange || '(default exchange)'} / ${letter.origin.routingKey}` : undefined,
    attempts: letter.attempts,
    group: groupKey(letter),
  };
}

/**
 * Rows and groups, newest first: by failure time where the header says it, else by position (a
 * dead-letter queue is in arrival order, so a later message failed later).
 */
export function groupDeadLetters(letters: readonly DeadLetter[]): { messages: DeadLetterRow[]; groups: DeadLetterGroup[] } {
  const rows = letters.map((letter, position) => ({ row: deadLetterRow(letter), position }));
  rows.sort((a, b) => (b.row.failedAt ?? 0) - (a.row.failedAt ?? 0) || b.position - a.position);
  const groups = new Map<string, DeadLetterGroup>();
  for (const { row } of rows) {
    const group = groups.get(row.group);
    if (group) group.count++;
    else groups.set(row.group, { key: row.group, count: 1, newest: row.failedAt });
  }
  return { messages: rows.map((r) => r.row), groups: [...groups.values()] };
}

/** Everything the detail view shows of one message. */
export function deadLetterDetail(letter: DeadLetter): DeadLetterDetail {
  const first = letter.headers['x-warren-first-failure'];
  const replayed = letter.headers['x-warren-replayed'];
  return {
    ...deadLetterRow(letter),
    errorDetails: letter.errorDetails,
    issues: letter.errorDetails ? letter.errorDetails.split(' | ').filter((issue) => issue !== '') : [],
    consumerHeader: letter.consumer,
    failedQueue: letter.queue,
    contentType: letter.contentType,
    firstFailedAt: typeof first === 'number' && Number.isFinite(first) ? first : undefined,
    replayed: typeof replayed === 'number' && Number.isFinite(replayed) ? replayed : undefined,
    headers: Object.entries(letter.headers).map(([name, value]) => [name, clip(displayValue(value), HEADER_PREVIEW_CHARS)]),
    body: bodyView(letter.body, letter.contentType),
  };
}

/**
 * A body for reading: JSON pretty-printed when it parses, text when it is valid UTF-8 without
 * control characters, else a hex dump (offset, bytes, printable ASCII).
 */
export function bodyView(body: Buffer, contentType: string | undefined): BodyView {
  const preview = body.subarray(0, BODY_PREVIEW_BYTES);
  const truncated = body.length > preview.length;
  const base = { bytes: body.length, truncated };
  const text = utf8(preview, truncated);
  if (text !== undefined && !truncated && (contentType === undefined || /json/i.test(contentType))) {
    try {
      return { ...base, kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      // Not JSON after all: shown as text below.
    }
  }
  if (text !== undefined && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) return { ...base, kind: 'text', text };
  return { ...base, kind: 'hex', text: hexDump(preview) };
}

/** UTF-8 text, or undefined when the bytes are not valid UTF-8 (in a cut preview, a cut character at the end is allowed). */
function utf8(bytes: Buffer, cut: boolean): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cut });
  } catch {
    return undefined;
  }
}

export function hexDump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join('\n');
}

/** A header value as one string: text as it is, bytes as hex, tables and arrays as JSON. */
export function displayValue(value: FieldTable[string] | unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return `<${value.length} bytes: ${value.subarray(0, 256).toString('hex')}${value.length > 256 ? '…' : ''}>`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value, (_key, inner: unknown) => (Buffer.isBuffer(inner) ? inner.toString('hex') : typeof inner === 'bigint' ? inner.toString() : inner));
  } catch {
    return '(a value that cannot be shown)';
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Whether a message is among those an action names; the filter text matches as the page's search does. */
export function selects(selection: Selection, letter: DeadLetter): boolean {
  switch (selection.kind) {
    case 'all': return true;
    case 'message': return fingerprint(letter) === selection.id;
    case 'group': return groupKey(letter) === selection.key;
    case 'filter': return matchesText(deadLetterRow(letter), selection.text);
  }
}
