import { types } from 'node:util';
import type { FieldTable, MessageProperties } from '../../transport';

/**
 * Copies of message properties and field tables. A message crosses the broker as bytes, so the
 * publisher, the broker and every consumer each own their copy: mutating a delivered header must not
 * change what the next consumer (or a requeued redelivery) sees. Plain tables are copied by hand;
 * `structuredClone` is several times slower on the small tables messages carry.
 */
export function copyProperties(properties: MessageProperties): MessageProperties {
  const copy = { ...properties };
  if (properties.headers != null) copy.headers = copyTable(properties.headers);
  return copy;
}

export function copyTable(table: FieldTable | ReadonlyMap<string, unknown>): FieldTable {
  const copy: FieldTable = {};
  if (types.isMap(table)) {
    for (const [key, value] of table) copyEntry(copy, key, value);
  } else {
    for (const key in table) if (Object.prototype.hasOwnProperty.call(table, key)) copyEntry(copy, key, (table as FieldTable)[key]);
  }
  return copy;
}

function copyEntry(copy: FieldTable, key: string, value: unknown): void {
  // AMQP has no encoding for these, so they never reach a consumer of RabbitMQ either.
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return;
  // A key is data, whatever its name: `copy.__proto__ = …` would set the copy's prototype instead.
  Object.defineProperty(copy, key, { value: copyValue(value), enumerable: true, writable: true, configurable: true });
}

function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Brand checks, not instanceof: a hostile table can have Date.prototype or Buffer.prototype in its chain.
  if (types.isUint8Array(value)) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(copyValue);
  if (types.isDate(value)) return new Date(value.getTime());
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  return copyTable(value as FieldTable);
}

/** Field value equality as RabbitMQ compares header values: numbers by value, tables and arrays deeply. */
export function fieldValuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'bigint' || typeof b === 'bigint') return typeof a !== 'object' && typeof b !== 'object' && Number(a) === Number(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => fieldValuesEqual(item, b[i]));
  }
  const aKeys = Object.keys(a);
  const bTable = b as FieldTable;
  return aKeys.length === Object.keys(b).length && aKeys.every((key) => fieldValuesEqual((a as FieldTable)[key], bTable[key]));
}
