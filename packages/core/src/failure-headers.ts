import { PayloadValidationError, summarizeIssues, type WarrenError } from './errors';
import type { FieldTable } from './transport';

/**
 * What a failed message carries when Warren republishes it (into the delay cascade, to the dead-letter queue
 * or back to its own queue): the headers its publisher set, then Warren's. Headers the broker owns
 * and headers Warren owns are never taken from a delivery, because anyone who can publish can forge
 * them: a forged `x-death` crashes RabbitMQ 3.10's dead-lettering, and forged `x-warren-*` headers
 * would otherwise survive into the dead letter as if Warren had written them.
 */

const MAX_HEADER_TEXT = 1000;

/** Headers RabbitMQ writes itself when it dead-letters a message, counts deliveries with, or gives a stream delivery its offset with. */
export function isBrokerOwnedHeader(name: string): boolean {
  return name === 'x-death' || name.startsWith('x-first-death-') || name.startsWith('x-last-death-') || name === 'x-delivery-count' || name === 'x-stream-offset';
}

/** Headers Warren writes (`x-warren-*`): read only where Warren says why it trusts them. */
export function isWarrenHeader(name: string): boolean {
  return name.startsWith('x-warren-');
}

/** The headers a publisher set: neither broker-owned, nor routing (`CC`, `BCC`), nor Warren's own, and no key that could reach a prototype. */
export function userHeaders(headers: FieldTable | undefined): FieldTable {
  const copy: FieldTable = {};
  if (!headers) return copy;
  for (const name of Object.keys(headers)) {
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
    // CC / BCC are routing instructions to the broker, not data: copied into a retry or a dead
    // letter, they would send copies to whatever queues or keys the original publisher named.
    if (isBrokerOwnedHeader(name) || isWarrenHeader(name) || name === 'CC' || name === 'BCC') continue;
    copy[name] = headers[name];
  }
  return copy;
}

/** The `x-warren-error-*` headers that say why a message failed. */
export function errorHeaders(error: WarrenError): FieldTable {
  const headers: FieldTable = {
    'x-warren-error-code': truncate(String(error.code)),
    'x-warren-error-message': truncate(error.message),
  };
  if (error instanceof PayloadValidationError) headers['x-warren-error-details'] = truncate(summarizeIssues(error.issues));
  return headers;
}

function truncate(text: string): string {
  return text.length > MAX_HEADER_TEXT ? `${text.slice(0, MAX_HEADER_TEXT - 1)}…` : text;
}

/**
 * A one-line description of anything a handler threw, without ever running user code unguarded:
 * `toString`, a `message` getter or a Proxy trap may throw, or return something that is not text.
 */
export function describeThrown(value: unknown): string {
  try {
    if (value === undefined) return 'the handler threw undefined';
    if (value === null) return 'the handler threw null';
    switch (typeof value) {
      case 'string': return value === '' ? 'the handler threw an empty string' : value;
      case 'number': case 'boolean': case 'bigint': return `the handler threw ${String(value)}`;
      case 'symbol': return `the handler threw ${value.description === undefined ? 'a symbol' : `Symbol(${value.description})`}`;
      case 'function': return 'the handler threw a function';
      default: break;
    }
    const message = guarded(() => (value as { message?: unknown }).message);
    if (typeof message === 'string' && message !== '') return message;
    const name = guarded(() => (value as { name?: unknown }).name);
    if (typeof name === 'string' && name !== '') return `the handler threw ${article(name)} without a message`;
    const prototype = guarded(() => Object.getPrototypeOf(value));
    if (prototype === null) return 'the handler threw an object without a prototype';
    const constructorName = guarded(() => (prototype as { constructor?: { name?: unknown } } | undefined)?.constructor?.name);
    return typeof constructorName === 'string' && constructorName !== '' && constructorName !== 'Object'
      ? `the handler threw ${article(constructorName)} without a message`
      : 'the handler threw an object without a message';
  } catch {
    return 'the handler threw a value that cannot be described';
  }
}

function article(name: string): string {
  return `${/^[AEIOUaeiou]/.test(name) ? 'an' : 'a'} ${name.slice(0, 100)}`;
}

function guarded<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
