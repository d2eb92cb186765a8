import { constants as bufferConstants } from 'node:buffer';
import { deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { DecodeError } from './errors';

/**
 * `content-encoding` of message bodies: gzip and deflate are decoded before the content type's
 * codec runs, and publishing may compress (`route(…, { compress: 'gzip' })`). The body-size limit
 * applies to the decompressed bytes too: decompression stops at the limit, so a small body that
 * inflates to gigabytes (a zip bomb) is dead-lettered as `PAYLOAD_TOO_LARGE` without being held.
 */
export type ContentEncoding = 'gzip' | 'deflate';

const LARGEST_BUFFER = bufferConstants.MAX_LENGTH;

/** The body with its `content-encoding` removed; throws a DecodeError for unknown or corrupt encodings. */
export function decodeContentEncoding(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (encoding === undefined) return body;
  const name = encoding.trim().toLowerCase();
  if (name === '' || name === 'identity') return body;
  const limit = { maxOutputLength: Math.max(1, Math.min(maxBytes, LARGEST_BUFFER)) };
  const inflate = (run: () => Buffer): Buffer => {
    try {
      return run();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DecodeError('PAYLOAD_TOO_LARGE', `The ${name} body inflates to more than ${maxBytes} bytes (maxBodyBytes applies to the decompressed size).`);
      }
      throw new DecodeError('DECODE_FAILED', `The body is not valid ${name} data (content-encoding: ${name}).`);
    }
  };
  if (name === 'gzip' || name === 'x-gzip') return inflate(() => gunzipSync(body, limit));
  if (name === 'deflate') {
    // RFC 9110's deflate is zlib-wrapped; some clients send raw deflate: accept both.
    return inflate(() => {
      try {
        return inflateSync(body, limit);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw error;
        return inflateRawSync(body, limit);
      }
    });
  }
  throw new DecodeError('UNSUPPORTED_CONTENT_ENCODING', `Content encoding "${printable(name)}" is not supported: send the body unencoded, or gzip / deflate.`);
}

/** Compresses a body for publishing. */
export function encodeContent(body: Buffer, encoding: ContentEncoding): Buffer {
  return encoding === 'gzip' ? gzipSync(body) : deflateSync(body);
}

/** Checks a `compress` option at start. */
export function isContentEncoding(value: unknown): value is ContentEncoding {
  return value === 'gzip' || value === 'deflate';
}

function printable(text: string): string {
  return text.slice(0, 50).replace(/[^\x20-\x7e]/g, '?');
}
