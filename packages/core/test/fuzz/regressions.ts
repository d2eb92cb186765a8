import { gzipSync } from 'node:zlib';
import type { HostileDelivery } from './arbitraries';

/**
 * Deliveries that broke (or would break) a property, kept so they run on every CI run whatever the
 * random seed: found by the fuzz test or reported in issue 11. Add a failing counterexample here
 * (fast-check prints it) together with the fix.
 */
export const REGRESSION_DELIVERIES: HostileDelivery[] = [
  // issue 11: a replyTo made a failing event skip its retries and write into another queue
  { routingKey: 'event', body: Buffer.from('{"act":"throw-error"}'), contentType: 'application/json', replyTo: 'QUEUE.victim' },
  // issue 11: a forged x-death was copied into the retry publish (RabbitMQ 3.10 crash-looped the retry queue)
  { routingKey: 'event', body: Buffer.from('{"act":"throw-error"}'), contentType: 'application/json', headers: { 'x-death': ['junk'] } },
  // issue 11: forged origin headers
  { routingKey: 'event', body: Buffer.from('{"act":"throw-error"}'), headers: { 'x-warren-attempt': 3, 'x-warren-original-exchange': 'admin.delete-everything' } },
  // issue 11: a nested __proto__ reached a prototype
  { routingKey: 'event', body: Buffer.from('{"act":"ok"}'), headers: JSON.parse('{"x":{"__proto__":{"isAdmin":true}},"l":[{"constructor":{"prototype":{"isAdmin":true}}}]}') as Record<string, unknown> },
  // issue 11: odd thrown values were dead-lettered without reason headers
  { routingKey: 'rpc', body: Buffer.from('{"act":"throw-null-prototype"}'), replyTo: 'amq.rabbitmq.reply-to.forged' },
  { routingKey: 'event', body: Buffer.from('{"act":"throw-bad-toString"}') },
  { routingKey: 'event', body: Buffer.from('{"act":"throw-undefined"}') },
  // issue 11: retryLater(1.5 / -1 / NaN) failed on the broker
  { routingKey: 'event', body: Buffer.from('{"act":"retry-later","delay":1.5}') },
  { routingKey: 'event', body: Buffer.from('{"act":"retry-later","delay":-1}') },
  { routingKey: 'event', body: Buffer.from('{"act":"retry-later"}') },
  // found by the fuzz test: an own __proto__ key holding a Date made the in-memory broker's header copy
  // take Date.prototype as its prototype, and its next copy threw (uncaught) on `instanceof Date`
  { routingKey: 'event', body: Buffer.from('{"act":"ack"}'), headers: { 'x-last-death-reason': Object.defineProperty({ kept: false }, '__proto__', { value: new Date(5_000_000_000), enumerable: true }) } },
  // zip bomb and an unknown encoding
  { routingKey: 'event', body: gzipSync(Buffer.alloc(1024 * 1024, 0x20)), contentType: 'application/json', contentEncoding: 'gzip' },
  { routingKey: 'rpc', body: Buffer.from('{}'), contentEncoding: 'br', replyTo: 'amq.rabbitmq.reply-to.forged' },
];

/** Failing runs, replayed exactly: fast-check prints `{ seed, path }` with a counterexample. */
export const REGRESSION_SEEDS: Array<{ seed: number; path: string; found: string }> = [
  { seed: 481495675, path: '311', found: 'own __proto__ key holding a Date (in-memory broker header copy)' },
];
