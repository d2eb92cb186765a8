import { decodeContentEncoding } from './content-encoding';
import { DecodeError } from './errors';

/**
 * Turns bodies into values and back, by content type. Warren decodes itself (the AMQP client's own
 * decoding is lenient and lossy): strict UTF-8, JSON with charset parameters and `+json` types,
 * `text/plain`, raw bytes, and codecs the user registers.
 *
 * @example
 * ```ts
 * const msgpack: Codec = { contentType: 'application/msgpack', decode: (b) => unpack(b), encode: (v) => pack(v) };
 * await Warren.start({ handlers: [Billing], codecs: [msgpack] });
 * ```
 */
export interface Codec {
  /** The media type it handles, without parameters, e.g. `application/msgpack`. */
  readonly contentType: string;
  decode(body: Buffer): unknown;
  encode(value: unknown): Buffer;
}

/** What the handler parameter asks for: a Buffer and a string bypass JSON. */
export type BodyShape = 'bytes' | 'text' | 'value';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8: invalid sequences are an error, and a BOM is kept (so JSON.parse rejects it) rather than silently dropped. */
export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new DecodeError('DECODE_FAILED', 'The body is not valid UTF-8.');
  }
}

export const jsonCodec: Codec = {
  contentType: 'application/json',
  decode(body) {
    const text = decodeUtf8(body);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new DecodeError('DECODE_FAILED', `The body is not valid JSON: ${(err as Error).message}`);
    }
  },
  encode(value) {
    return Buffer.from(JSON.stringify(value), 'utf8');
  },
};

export const textCodec: Codec = {
  contentType: 'text/plain',
  decode: decodeUtf8,
  encode(value) {
    return Buffer.from(String(value), 'utf8');
  },
};

/** Codecs by media type; JSON and text are always present, user codecs may replace them. */
export class CodecRegistry {
  private readonly byType = new Map<string, Codec>();
  private readonly cache = new Map<string, Codec | null>();

  constructor(codecs: readonly Codec[] = []) {
    for (const codec of [jsonCodec, textCodec, ...codecs]) this.byType.set(codec.contentType.toLowerCase(), codec);
  }

  /** The codec for a full content-type header (`application/json; charset=utf-8`), or undefined. */
  find(contentType: string): Codec | undefined {
    let codec = this.cache.get(contentType);
    if (codec === undefined) {
      codec = this.resolve(contentType) ?? null;
      if (this.cache.size < 256) this.cache.set(contentType, codec);
    }
    return codec ?? undefined;
  }

  private resolve(contentType: string): Codec | undefined {
    const [mediaType = '', ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
    const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
    if (charset && charset !== 'utf-8' && charset !== 'utf8') return undefined;
    const exact = this.byType.get(mediaType);
    if (exact) return exact;
    if (mediaType.endsWith('+json')) return this.byType.get('application/json');
    return undefined;
  }
}

/**
 * Decodes a delivery body for a handler. `shape` comes from the handler's parameter type:
 * a `Buffer` parameter gets the bytes whatever the content type (images and other binary data),
 * a `string` parameter gets strict UTF-8 text, anything else is decoded by content type — and a
 * message without one is decoded as JSON, the parameter type's natural encoding. A gzip or deflate
 * `contentEncoding` is removed first, with `maxBytes` applied to the decompressed size as well.
 */
export function decodeBody(body: Buffer, contentType: string | undefined, shape: BodyShape, codecs: CodecRegistry, maxBytes: number, contentEncoding?: string): unknown {
  if (body.length > maxBytes) {
    throw new DecodeError('PAYLOAD_TOO_LARGE', `The body has ${body.length} bytes, over the limit of ${maxBytes} (maxBodyBytes).`);
  }
  body = decodeContentEncoding(body, contentEncoding, maxBytes);
  if (shape === 'bytes') return body;
  if (shape === 'text') return decodeUtf8(body);
  if (contentType === undefined || contentType === '') return jsonCodec.decode(body);
  const codec = codecs.find(contentType);
  if (!codec) {
    throw new DecodeError('UNSUPPORTED_CONTENT_TYPE', `No codec for content type "${contentType.slice(0, 100)}"; register one with Warren.start({ codecs }) or send application/json.`);
  }
  if (codec === textCodec) {
    throw new DecodeError('UNSUPPORTED_CONTENT_TYPE', 'A text/plain body cannot be validated as an object; send application/json, or make the handler parameter a string.');
  }
  return codec.decode(body);
}
