import type { JsonSchema } from './json-schema';
import { compareSchemas, type Direction, type RefResolver } from './schema-compatibility';

/** One difference between two versions of a service's AsyncAPI document. */
export interface ContractChange {
  breaking: boolean;
  /** Who it affects: the services sending to this one, or those consuming what it sends. */
  affects: 'publishers' | 'consumers';
  /** The operation id (`Billing.charge`, `OrderEvents.created`). */
  operation: string;
  /** e.g. `payload.items[].qty`; empty for changes to the operation or channel itself. */
  path: string;
  message: string;
}

type Doc = JsonSchema;

/**
 * Compares two AsyncAPI 3 documents of one service, operation by operation. A receive operation
 * (and the reply a request waits for) breaks its publishers when it accepts fewer messages; a send
 * operation breaks its consumers when it may send messages they did not expect. Removed operations
 * and moved channels break both.
 *
 * @example
 * ```ts
 * const changes = diffContracts(parse(readFileSync('old.yaml', 'utf8')), parse(readFileSync('new.yaml', 'utf8')));
 * if (changes.some((c) => c.breaking)) process.exitCode = 1;
 * ```
 */
export function diffContracts(before: Doc, after: Doc): ContractChange[] {
  const changes: ContractChange[] = [];
  const oldOps = (before.operations ?? {}) as Record<string, Doc>;
  const newOps = (after.operations ?? {}) as Record<string, Doc>;
  const resolveOld = resolverFor(before);
  const resolveNew = resolverFor(after);

  for (const [id, rawOld] of Object.entries(oldOps)) {
    const oldOp = resolveOld(rawOld);
    const affects = oldOp.action === 'receive' ? 'publishers' : 'consumers';
    const rawNew = newOps[id];
    if (!rawNew) {
      changes.push({ breaking: true, affects, operation: id, path: '', message: `operation removed (${describeChannel(resolveOld(oldOp.channel as Doc))})` });
      continue;
    }
    const newOp = resolveNew(rawNew);
    if (newOp.action !== oldOp.action) {
      changes.push({ breaking: true, affects, operation: id, path: '', message: `action changed from ${String(oldOp.action)} to ${String(newOp.action)}` });
      continue;
    }
    const oldChannel = describeChannel(resolveOld(oldOp.channel as Doc));
    const newChannel = describeChannel(resolveNew(newOp.channel as Doc));
    if (oldChannel !== newChannel) changes.push({ breaking: true, affects, operation: id, path: '', message: `channel moved from ${oldChannel} to ${newChannel}` });

    const direction: Direction = oldOp.action === 'receive' ? 'accepts' : 'produces';
    compareMessages(id, affects, direction, messagesOf(oldOp, resolveOld), messagesOf(newOp, resolveNew), resolveOld, resolveNew, changes);
    // The reply to a request is received by this service: it must keep accepting what repliers send.
    const oldReply = oldOp.reply ? messagesOf(resolveOld(oldOp.reply as Doc), resolveOld) : new Map<string, Doc>();
    const newReply = newOp.reply ? messagesOf(resolveNew(newOp.reply as Doc), resolveNew) : new Map<string, Doc>();
    if (oldReply.size || newReply.size) compareMessages(id, 'consumers', 'accepts', oldReply, newReply, resolveOld, resolveNew, changes, 'reply ');
  }
  for (const [id, rawNew] of Object.entries(newOps)) {
    if (id in oldOps) continue;
    const newOp = resolveNew(rawNew);
    changes.push({ breaking: false, affects: newOp.action === 'receive' ? 'publishers' : 'consumers', operation: id, path: '', message: `operation added (${describeChannel(resolveNew(newOp.channel as Doc))})` });
  }
  return changes;
}

function compareMessages(
  operation: string, affects: ContractChange['affects'], direction: Direction, before: Map<string, Doc>, after: Map<string, Doc>,
  resolveOld: RefResolver, resolveNew: RefResolver, changes: ContractChange[], prefix = '',
): void {
  for (const [name, oldMessage] of before) {
    const newMessage = after.get(name) ?? (before.size === 1 && after.size === 1 ? [...after.values()][0] : undefined);
    if (!newMessage) {
      changes.push({ breaking: true, affects, operation, path: '', message: `${prefix}message ${name} removed` });
      continue;
    }
    const oldType = String(oldMessage.contentType ?? ''), newType = String(newMessage.contentType ?? '');
    if (oldType !== newType) changes.push({ breaking: true, affects, operation, path: '', message: `${prefix}content type changed from ${oldType || '(default)'} to ${newType || '(default)'}` });
    for (const change of compareSchemas((oldMessage.payload ?? {}) as Doc, (newMessage.payload ?? {}) as Doc, resolveOld, resolveNew, `${prefix}payload`)) {
      const breaking = change.effect === 'changed' || (direction === 'accepts' ? change.effect === 'narrowed' : change.effect === 'widened');
      changes.push({ breaking, affects, operation, path: change.path, message: change.message });
    }
  }
  for (const name of after.keys()) {
    if (before.has(name) || (before.size === 1 && after.size === 1)) continue;
    // A receive operation accepting one more message type is harmless; a sender sending a new one is not.
    changes.push({ breaking: direction === 'produces', affects, operation, path: '', message: `${prefix}message ${name} added` });
  }
}

function messagesOf(holder: Doc, resolve: RefResolver): Map<string, Doc> {
  const messages = new Map<string, Doc>();
  for (const ref of (holder.messages ?? []) as Doc[]) {
    const message = resolve(ref);
    messages.set(String(message.name ?? String(ref.$ref ?? '').split('/').pop()), message);
  }
  return messages;
}

/** `exchange orders, key order.created` or `queue billing.orders`: what a channel routes by. */
function describeChannel(channel: Doc): string {
  const amqp = ((channel.bindings ?? {}) as Doc).amqp as Doc | undefined;
  if (amqp?.is === 'queue') return `queue ${String((amqp.queue as Doc | undefined)?.name ?? channel.address)}`;
  const exchange = amqp?.exchange as Doc | undefined;
  if (exchange) return `exchange ${String(exchange.name) || '(default)'} (${String(exchange.type)}), key ${String(channel.address)}`;
  return `address ${String(channel.address)}`;
}

/** Follows local `$ref`s (`#/components/...`, `#/channels/x/messages/y`) within one document. */
function resolverFor(document: Doc): RefResolver {
  return (schema) => {
    let current: Doc | undefined = schema;
    for (let hops = 0; current && typeof current.$ref === 'string' && hops < 32; hops++) {
      const ref: string = current.$ref as string;
      if (!ref.startsWith('#/')) return current;
      let target: unknown = document;
      for (const part of ref.slice(2).split('/')) {
        target = (target as Doc | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      }
      current = target as Doc | undefined;
    }
    return current ?? {};
  };
}

/** The report people read: breaking changes first, each with who it affects. */
export function formatContractReport(changes: readonly ContractChange[]): string {
  const breaking = changes.filter((c) => c.breaking);
  const compatible = changes.filter((c) => !c.breaking);
  const line = (c: ContractChange, mark: string) =>
    `  ${mark} ${c.operation}${c.path ? ` · ${c.path}` : ''}: ${c.message}${c.breaking ? `  (breaks ${c.affects === 'publishers' ? 'services sending to it' : 'services consuming it'})` : ''}`;
  const lines: string[] = [];
  if (breaking.length) lines.push(`Breaking changes (${breaking.length})`, ...breaking.map((c) => line(c, '✗')));
  if (compatible.length) lines.push(...(lines.length ? [''] : []), `Compatible changes (${compatible.length})`, ...compatible.map((c) => line(c, '•')));
  if (!changes.length) lines.push('No changes to operations, channels or message payloads.');
  lines.push('', breaking.length ? `${breaking.length} breaking change(s).` : 'No breaking changes.');
  return `${lines.join('\n')}\n`;
}
