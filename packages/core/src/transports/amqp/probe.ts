import * as net from 'node:net';
import * as tls from 'node:tls';
import { isTlsRejection } from './errors';
import type { TlsOptions } from './url';

/** AMQP 0-9-1's protocol header, what a client sends first. */
const PROTOCOL_HEADER = Buffer.from([65, 77, 81, 80, 0, 0, 9, 1]);
/** Frame type (1: method), channel 0, payload size, then class 10 method 10: connection.start. */
const START_BYTES = 11;
/** Socket errors that another attempt cannot cure: nothing listens there, or the name does not resolve. */
const DEFINITIVE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);

/** What one host answered to the protocol header. */
export type ProbeResult =
  | { ok: true }
  | {
    ok: false;
    /** True when trying again cannot help (refused, unknown host, not AMQP, untrusted certificate). */
    definitive: boolean;
    /** What went wrong, for the `ConnectionError` (no credentials in it: none were sent). */
    reason: string;
    /** Node's error code (`ECONNREFUSED`, `ENOTFOUND`…) or `NOT_AMQP`. */
    code: string;
    cause?: Error;
  };

/**
 * Opens a socket to one broker host (TLS when `tlsOptions` is given), sends the AMQP 0-9-1
 * protocol header and checks that the answer starts a `connection.start` frame, then hangs up.
 *
 * Why a probe: rabbitmq-client's frame reader trusts the peer. Given a non-AMQP server (an HTTP
 * server answers "HTTP/1.1 400…"), it reads the bytes as a frame size of a gigabyte, and Node's
 * `socket.read(size)` throws a RangeError from inside the socket's 'readable' event, where nothing
 * can catch it: the process dies. The client has no public hook on its reader (its `socket` option
 * only configures the socket it creates), so Warren checks the peer itself before handing the
 * address to the client. The probe also tells a refused port or an unknown host apart within one
 * round trip, where the client would retry until its connect timeout.
 */
export function probeHost(hostAndPort: string, tlsOptions: TlsOptions | undefined, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const [host, portText] = splitHost(hostAndPort);
  const port = Number(portText);
  return new Promise((resolve) => {
    const socket = tlsOptions ? tls.connect({ host, port, ...tlsOptions }) : net.connect({ host, port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (result: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, definitive: false, code: 'ETIMEDOUT', reason: `no AMQP answer from ${hostAndPort} within ${timeoutMs} ms` }), timeoutMs);
    const onAbort = () => finish({ ok: false, definitive: true, code: 'ABORTED', reason: 'the transport was closed while connecting' });
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => socket.write(PROTOCOL_HEADER));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.subarray(0, 4).toString('latin1') === 'AMQP') {
        if (received.length >= 8) finish({ ok: false, definitive: true, code: 'NOT_AMQP', reason: `${hostAndPort} speaks another AMQP version (it suggests ${[...received.subarray(4, 8)].join('-')}); Warren needs AMQP 0-9-1 (RabbitMQ)` });
        return;
      }
      if (received.length < START_BYTES) return;
      const isStart = received[0] === 1 && received.readUInt16BE(1) === 0 && received.readUInt16BE(7) === 10 && received.readUInt16BE(9) === 10;
      finish(isStart ? { ok: true } : { ok: false, definitive: true, code: 'NOT_AMQP', reason: `${hostAndPort} is not an AMQP 0-9-1 server: it answered ${printable(received)}. Check the host and port (5672 for amqp://, 5671 for amqps://)` });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'ERROR';
      const definitive = DEFINITIVE.has(code) || isTlsRejection(error);
      finish({ ok: false, definitive, code, reason: describe(code, hostAndPort, error.message), cause: error });
    });
    socket.once('close', () => finish({
      ok: false, definitive: false, code: 'ECONNRESET',
      reason: received.length
        ? `${hostAndPort} closed the connection after answering ${printable(received)} (not an AMQP 0-9-1 server?)`
        : `${hostAndPort} closed the connection without answering the AMQP protocol header`,
    }));
  });
}

function describe(code: string, hostAndPort: string, message: string): string {
  switch (code) {
    case 'ECONNREFUSED': return `connection refused by ${hostAndPort} (ECONNREFUSED): is RabbitMQ running and listening on that port?`;
    case 'ENOTFOUND': case 'EAI_NONAME': case 'EAI_FAIL': return `unknown host ${splitHost(hostAndPort)[0]} (${code}): check the host name in the URL`;
    case 'EAI_AGAIN': return `the host name ${splitHost(hostAndPort)[0]} could not be resolved (EAI_AGAIN: DNS unavailable): check the host name and the DNS`;
    default:
      if (isTlsRejection({ code })) return `the broker's certificate at ${hostAndPort} was not accepted (${code}: ${message}): check the CA passed in { tls: { ca } } and that the URL's host name is one the certificate names`;
      return `${hostAndPort}: ${message} (${code})`;
  }
}

/** The first bytes of an answer as text a log can show: printable ASCII, the rest as `.`. */
function printable(bytes: Buffer): string {
  return JSON.stringify(bytes.subarray(0, 24).toString('latin1').replace(/[^\x20-\x7e]/g, '.'));
}

/** `host:port`, `[::1]:port`. */
function splitHost(hostAndPort: string): [string, string] {
  const colon = hostAndPort.lastIndexOf(':');
  return [hostAndPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), hostAndPort.slice(colon + 1)];
}
