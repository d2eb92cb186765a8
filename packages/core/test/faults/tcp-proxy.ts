import * as net from 'node:net';

/**
 * How the proxy treats bytes on connections it carries:
 * - `pass`: forwards them as they come;
 * - `delay`: forwards them `delayMs` later, in order (a slow, long link);
 * - `chunked`: forwards one byte at a time, one byte per event-loop turn, so the client decodes
 *   every frame from many tiny reads;
 * - `blackhole`: drops them silently and keeps the sockets open — a cable pulled somewhere between
 *   client and broker, which only heartbeats can notice.
 */
export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; delayMs: number } | { kind: 'chunked' } | { kind: 'blackhole' };

/**
 * A TCP proxy on loopback between the client and a broker, for network faults the broker cannot
 * produce by itself. The mode applies to both directions; `blackhole(existingOnly)` swallows the
 * connections open now and lets new ones through, as when a route dies and the reconnect takes
 * another.
 */
export class TcpProxy {
  /** TCP connections accepted so far (reconnects count as new ones). */
  accepted = 0;
  private mode: ProxyMode = { kind: 'pass' };
  private readonly links = new Set<Link>();
  private server?: net.Server;
  private impostor?: Buffer;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on an ephemeral loopback port and resolves with it. */
  async listen(): Promise<number> {
    this.server = net.createServer((client) => this.carry(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Applies `mode` to every connection, open and future. */
  set(mode: ProxyMode): void {
    this.mode = mode;
    for (const link of this.links) link.mode = mode;
  }

  /** Silences the connections open now; new connections get the current mode. */
  blackholeOpenConnections(): void {
    for (const link of this.links) link.mode = { kind: 'blackhole' };
  }

  /**
   * Another server takes the port: new connections are not carried to the broker but answered with
   * `answer` (after the client's first bytes) and closed, as an HTTP server would. `undefined`
   * carries them again.
   */
  impersonate(answer: Buffer | undefined): void {
    this.impostor = answer;
  }

  /** Ends every connection carried now, as a broker that went away (the client reconnects). */
  dropOpenConnections(): void {
    for (const link of this.links) link.destroy();
    this.links.clear();
  }

  /** Connections currently carried. */
  get open(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    for (const link of this.links) link.destroy();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private carry(client: net.Socket): void {
    this.accepted++;
    const answer = this.impostor;
    if (answer) {
      client.on('error', () => undefined);
      client.once('data', () => client.end(answer));
      return;
    }
    const upstream = net.connect(this.target);
    const link = new Link(client, upstream, this.mode);
    this.links.add(link);
    const end = () => { link.destroy(); this.links.delete(link); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}

/** Bytes waiting to be written in one direction, in arrival order. */
interface Pending { at: number; bytes: Buffer; oneByteAtATime: boolean }

/** One client connection and its upstream twin; each direction is a FIFO, so no mode reorders bytes. */
class Link {
  private readonly pending = new Map<net.Socket, Pending[]>();
  private destroyed = false;

  constructor(private readonly client: net.Socket, private readonly upstream: net.Socket, public mode: ProxyMode) {
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (data: Buffer) => this.forward(data, upstream));
    upstream.on('data', (data: Buffer) => this.forward(data, client));
  }

  destroy(): void {
    this.destroyed = true;
    this.client.destroy();
    this.upstream.destroy();
  }

  private forward(bytes: Buffer, to: net.Socket): void {
    const mode = this.mode;
    if (mode.kind === 'blackhole') return;
    const item = { at: Date.now() + (mode.kind === 'delay' ? mode.delayMs : 0), bytes, oneByteAtATime: mode.kind === 'chunked' };
    const queue = this.pending.get(to);
    if (queue) { queue.push(item); return; }
    this.pending.set(to, [item]);
    this.pump(to);
  }

  private pump(to: net.Socket): void {
    const queue = this.pending.get(to)!;
    const head = queue[0];
    if (!head || this.destroyed || this.mode.kind === 'blackhole') { this.pending.delete(to); return; }
    const wait = head.at - Date.now();
    if (wait > 0) { setTimeout(() => this.pump(to), wait); return; }
    if (head.oneByteAtATime) {
      to.write(head.bytes.subarray(0, 1));
      head.bytes = head.bytes.subarray(1);
      if (head.bytes.length === 0) queue.shift();
      // One byte per event-loop turn: the client reads each as its own chunk.
      setImmediate(() => this.pump(to));
      return;
    }
    to.write(head.bytes);
    queue.shift();
    this.pump(to);
  }
}
