import { expect } from 'chai';
import { CodecRegistry, decodeBody, type Codec } from '../src/codec';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { DecodeError } from '../src/errors';

const codecs = new CodecRegistry();
const MAX = 1024;

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('decodeBody', () => {
  it('parses JSON with a charset parameter and +json media types', () => {
    expect(decodeBody(Buffer.from('{"a":1}'), 'application/json; charset=utf-8', 'value', codecs, MAX)).to.deep.equal({ a: 1 });
    expect(decodeBody(Buffer.from('{"a":2}'), 'application/vnd.orders+json', 'value', codecs, MAX)).to.deep.equal({ a: 2 });
    expect(decodeBody(Buffer.from('[1]'), 'Application/JSON', 'value', codecs, MAX)).to.deep.equal([1]);
  });

  it('decodes a body without content type as JSON', () => {
    expect(decodeBody(Buffer.from('{"b":true}'), undefined, 'value', codecs, MAX)).to.deep.equal({ b: true });
  });

  it('rejects malformed JSON with DECODE_FAILED', () => {
    expect(decodeError(() => decodeBody(Buffer.from('{"a":'), 'application/json', 'value', codecs, MAX)).code).to.equal('DECODE_FAILED');
  });

  it('rejects invalid UTF-8 instead of replacing it', () => {
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    expect(decodeError(() => decodeBody(body, 'application/json', 'value', codecs, MAX)).message).to.match(/UTF-8/);
    expect(decodeError(() => decodeBody(Buffer.from([0xc3]), 'text/plain', 'text', codecs, MAX)).code).to.equal('DECODE_FAILED');
  });

  it('rejects a JSON body that starts with a byte-order mark', () => {
    expect(decodeError(() => decodeBody(Buffer.from('\uFEFF{}', 'utf8'), 'application/json', 'value', codecs, MAX)).code).to.equal('DECODE_FAILED');
  });

  it('rejects a charset other than UTF-8 and unknown content types', () => {
    expect(decodeError(() => decodeBody(Buffer.from('{}'), 'application/json; charset=latin1', 'value', codecs, MAX)).code).to.equal('UNSUPPORTED_CONTENT_TYPE');
    expect(decodeError(() => decodeBody(Buffer.from('x'), 'application/x-pickle', 'value', codecs, MAX)).code).to.equal('UNSUPPORTED_CONTENT_TYPE');
  });

  it('hands a Buffer parameter the raw bytes whatever the content type', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]);
    expect(decodeBody(png, 'application/json', 'bytes', codecs, MAX)).to.equal(png);
  });

  it('decodes text for a string parameter', () => {
    expect(decodeBody(Buffer.from('Hello ✓'), 'text/plain', 'text', codecs, MAX)).to.equal('Hello ✓');
  });

  it('refuses bodies over the size limit before reading them', () => {
    expect(decodeError(() => decodeBody(Buffer.alloc(MAX + 1), 'application/json', 'value', codecs, MAX)).code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('uses a registered custom codec', () => {
    const csv: Codec = { contentType: 'text/csv', decode: (b) => b.toString().split(','), encode: (v) => Buffer.from(String(v)) };
    expect(decodeBody(Buffer.from('a,b'), 'text/csv', 'value', new CodecRegistry([csv]), MAX)).to.deep.equal(['a', 'b']);
  });

  describe('content-encoding', () => {
    it('decodes gzip and deflate (zlib or raw) bodies before the codec', () => {
      const json = Buffer.from('{"a":[1,2,3]}');
      expect(decodeBody(gzipSync(json), 'application/json', 'value', codecs, MAX, 'gzip')).to.deep.equal({ a: [1, 2, 3] });
      expect(decodeBody(gzipSync(json), 'application/json', 'value', codecs, MAX, ' X-GZIP ')).to.deep.equal({ a: [1, 2, 3] });
      expect(decodeBody(deflateSync(json), 'application/json', 'value', codecs, MAX, 'deflate')).to.deep.equal({ a: [1, 2, 3] });
      expect(decodeBody(deflateRawSync(json), 'application/json', 'value', codecs, MAX, 'deflate')).to.deep.equal({ a: [1, 2, 3] });
      expect(decodeBody(json, 'application/json', 'value', codecs, MAX, 'identity')).to.deep.equal({ a: [1, 2, 3] });
    });

    it('hands a Buffer parameter the decompressed bytes', () => {
      const bytes = Buffer.from([0, 1, 2, 250]);
      expect(decodeBody(gzipSync(bytes), 'application/octet-stream', 'bytes', codecs, MAX, 'gzip')).to.deep.equal(bytes);
    });

    it('applies the size limit to the decompressed size (a zip bomb stops at the limit)', () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      expect(bomb.length).to.be.below(MAX * 100);
      const started = performance.now();
      expect(decodeError(() => decodeBody(bomb, 'application/json', 'value', codecs, 64 * 1024, 'gzip')).code).to.equal('PAYLOAD_TOO_LARGE');
      console.log(`      64 MiB gzip bomb (${bomb.length} bytes) refused at a 64 KiB limit in ${(performance.now() - started).toFixed(1)} ms`);
      expect(decodeError(() => decodeBody(gzipSync(Buffer.alloc(MAX + 1)), 'application/json', 'value', codecs, MAX, 'gzip')).code).to.equal('PAYLOAD_TOO_LARGE');
    });

    it('refuses corrupt compressed data with DECODE_FAILED and unknown encodings with UNSUPPORTED_CONTENT_ENCODING', () => {
      expect(decodeError(() => decodeBody(Buffer.from('not gzip'), 'application/json', 'value', codecs, MAX, 'gzip')).code).to.equal('DECODE_FAILED');
      expect(decodeError(() => decodeBody(gzipSync('{}').subarray(0, 8), 'application/json', 'value', codecs, MAX, 'gzip')).code).to.equal('DECODE_FAILED');
      for (const encoding of ['br', 'compress', 'gzip, gzip', 'zstd', '\u001b[31m']) {
        const error = decodeError(() => decodeBody(Buffer.from('{}'), 'application/json', 'value', codecs, MAX, encoding));
        expect(error.code, encoding).to.equal('UNSUPPORTED_CONTENT_ENCODING');
        expect(error.message).not.to.contain('\u001b');
      }
    });
  });
});
