import type { AsyncApiDocument } from '../asyncapi';
import type { JsonSchema } from '../json-schema';
import type { ContractChannel, ContractMessage, ContractView } from './api-types';

/** How deep `$ref`s are followed before a loop (a class that contains itself) is cut. */
const MAX_DEPTH = 12;

/**
 * The AsyncAPI document `warren asyncapi` writes, digested for reading: channels with the
 * operations that use them, each message with its payload schema (`$ref`s resolved) and an example
 * built from the schema's own constraints.
 *
 * @example
 * ```ts
 * const view = contractView(buildAsyncApi({ title: 'orders', version: '1.0.0', ...service }));
 * view.channels.map((c) => c.address); // ['order.created', 'orders.order-created', …]
 * ```
 */
export function contractView(document: AsyncApiDocument): ContractView {
  const resolve = (ref: string): JsonSchema | undefined => {
    if (!ref.startsWith('#/')) return undefined;
    let node: unknown = document;
    for (const part of ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
      if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, part)) return undefined;
      node = (node as Record<string, unknown>)[part];
    }
    return node as JsonSchema;
  };
  const operations = Object.entries(document.operations);
  const channels: ContractChannel[] = Object.entries(document.channels).map(([name, channel]) => {
    const messages: ContractMessage[] = Object.values((channel.messages ?? {}) as Record<string, JsonSchema>).map((reference) => {
      const message = (typeof reference.$ref === 'string' ? resolve(reference.$ref) : reference) ?? {};
      const payload = inline(message.payload, resolve, 0);
      const given = Array.isArray(message.examples) ? (message.examples as unknown[]) : [];
      return {
        name: String(message.name ?? 'message'),
        title: typeof message.title === 'string' ? message.title : undefined,
        contentType: String(message.contentType ?? document.defaultContentType),
        payload,
        examples: given.length ? given : [exampleOf(payload)],
      };
    });
    const amqp = (channel.bindings as JsonSchema | undefined)?.amqp as JsonSchema | undefined;
    return {
      name,
      address: String(channel.address ?? name),
      exchange: typeof channel['x-warren-exchange'] === 'string' ? channel['x-warren-exchange'] : (amqp?.exchange as JsonSchema | undefined)?.name as string | undefined,
      messages,
      operations: operations
        .filter(([, operation]) => (operation.channel as JsonSchema | undefined)?.$ref === `#/channels/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`)
        .map(([operationName, operation]) => ({ action: String(operation.action), name: operationName, summary: typeof operation.summary === 'string' ? operation.summary : undefined })),
    };
  });
  return { title: document.info.title, version: document.info.version, description: document.info.description, channels };
}

/** A copy of a schema with every `$ref` replaced by what it points to (a loop is left as its `$ref`). */
function inline(schema: unknown, resolve: (ref: string) => JsonSchema | undefined, depth: number, seen: readonly string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inline(item, resolve, depth + 1, seen));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as JsonSchema).$ref;
  if (typeof ref === 'string') {
    const target = resolve(ref);
    if (!target || seen.includes(ref) || depth > MAX_DEPTH) return { $ref: ref };
    return inline(target, resolve, depth + 1, [...seen, ref]);
  }
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = inline(value, resolve, depth + 1, seen);
  return copy;
}

/** A value that satisfies the simple constraints of a schema (types, formats, minimums, required fields). */
export function exampleOf(schema: unknown, depth = 0): unknown {
  if (schema === null || typeof schema !== 'object' || depth > MAX_DEPTH) return null;
  const s = schema as JsonSchema;
  if (s.examples && Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  for (const key of ['oneOf', 'anyOf'] as const) if (Array.isArray(s[key]) && (s[key] as unknown[]).length) return exampleOf((s[key] as unknown[])[0], depth + 1);
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) out[key] = exampleOf(value, depth + 1);
      return out;
    }
    case 'array': return Array.from({ length: Math.max(1, Number(s.minItems ?? 1)) }, () => exampleOf(s.items, depth + 1));
    case 'integer': return typeof s.minimum === 'number' ? Math.ceil(s.minimum) : typeof s.exclusiveMinimum === 'number' ? Math.floor(s.exclusiveMinimum) + 1 : 0;
    case 'number': return typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 0;
    case 'boolean': return true;
    case 'string': return exampleString(s);
    default: return null;
  }
}

function exampleString(s: JsonSchema): string {
  switch (s.format) {
    case 'uuid': return '3f1c2a7e-5b0e-4a8e-9d6f-0c1d2e3f4a5b';
    case 'date-time': return '2024-01-01T00:00:00.000Z';
    case 'date': return '2024-01-01';
    case 'email': return 'someone@example.com';
    case 'uri': case 'url': return 'https://example.com/';
    default: break;
  }
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  const text = 'text'.padEnd(min, 'x');
  return text.length > max ? text.slice(0, max) : text;
}
