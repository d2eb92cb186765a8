import { types } from 'node:util';
import type { Delivery, FieldTable, MessageProperties } from './transport';

/**
 * A delivery is untrusted input, whichever broker it came from. This file is the one place that
 * turns what a transport handed over into plain data the pipeline can read safely:
 *
 * - header tables are copied, at every depth (nested tables and arrays), into null-prototype
 *   objects without `__proto__`, `constructor` or `prototype` keys, so no header can reach a
 *   prototype — whether the AMQP decoder assigned such a key (which sets the table's prototype) or
 *   an in-process publisher put it there;
 * - properties have the types AMQP gives them (a string property that is not a string is dropped).
 *
 * It never throws: a value it cannot read is left out.
 */

/** Keys that could reach an object prototype if copied naively. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deeper header values are dropped: AMQP tables this deep are hostile, and recursion must stay bounded. */
const MAX_DEPTH = 32;

const STRING_PROPERTIES = ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'expiration', 'messageId', 'type', 'userId', 'appId'] as const;
const NUMBER_PROPERTIES = ['priority', 'timestamp'] as const;

/** The delivery with plain, safe properties; body, exchange, routing key and queue as they came. */
export function untrustedDelivery(delivery: Delivery): Delivery {
  return { ...delivery, properties: plainProperties(delivery.properties) };
}

function plainProperties(properties: MessageProperties | undefined): MessageProperties {
  const plain: MessageProperties = {};
  if (!properties) return plain;
  const source = properties as Record<string, unknown>;
  const target = plain as Record<string, unknown>;
  for (const key of STRING_PROPERTIES) {
    const value = readOwn(source, key);
    if (typeof value === 'string') target[key] = value;
  }
  for (const key of NUMBER_PROPERTIES) {
    const value = readOwn(source, key);
    if (typeof value === 'number' && Number.isFinite(value)) target[key] = value;
  }
  const mode = readOwn(source, 'deliveryMode');
  if (mode === 1 || mode === 2) plain.deliveryMode = mode;
  const headers = readOwn(source, 'headers');
  if (headers !== null && typeof headers === 'object') plain.headers = plainTable(headers, 0);
  return plain;
}

/** Top-level tables made here: reading them again needs no second copy. */
const plainTables = new WeakSet<object>();

/** A null-prototype copy of a header table's own string keys, forbidden keys left out, at every depth. */
export function plainTable(table: object, depth = 0): FieldTable {
  if (depth === 0 && plainTables.has(table)) return table as FieldTable;
  const copy: FieldTable = Object.create(null);
  let keys: string[];
  try {
    keys = types.isMap(table) ? [...table.keys()].filter((k): k is string => typeof k === 'string') : Object.keys(table);
  } catch {
    return copy;
  }
  for (const key of keys) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    const value = plainValue(types.isMap(table) ? table.get(key) : readOwn(table as Record<string, unknown>, key), depth + 1);
    if (value !== undefined) copy[key] = value;
  }
  if (depth === 0) plainTables.add(copy);
  return copy;
}

function plainValue(value: unknown, depth: number): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string': case 'number': case 'boolean': case 'bigint':
      return value;
    case 'object':
      break;
    default:
      return undefined; // functions, symbols, undefined: AMQP has no encoding for them
  }
  if (depth > MAX_DEPTH) return undefined;
  try {
    // Brand checks, not instanceof: a decoded table can have Date.prototype or Buffer.prototype in its chain.
    if (types.isUint8Array(value)) return Buffer.from(value);
    if (types.isDate(value)) return Number.isNaN(value.getTime()) ? undefined : new Date(value.getTime());
    if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        const item = plainValue(value[i], depth + 1);
        items.push(item === undefined ? null : item);
      }
      return items;
    }
    return plainTable(value, depth);
  } catch {
    return undefined;
  }
}

/** An own property, without running a prototype's getter or a hostile accessor's exception. */
function readOwn(object: Record<string, unknown>, key: string): unknown {
  try {
    return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
  } catch {
    return undefined;
  }
}
