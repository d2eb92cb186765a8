import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A RabbitMQ node of its own for destructive tests: forced closes, restarts, kill -9, alarms, TLS.
 * The machine's shared broker (rabbit@localhost, 127.0.0.1:5672) must never feel these faults, so a
 * scratch node has its own node name, AMQP and distribution ports, config, data and log directories,
 * and its own Erlang cookie: `rabbitmqctl` run through {@link ScratchBroker.ctl} could not
 * authenticate to the shared node even if it were pointed at it.
 *
 * The node runs as root straight from `/usr/lib/rabbitmq/bin` (the `/usr/sbin` wrappers would `su`
 * to the rabbitmq user and drop our environment). Boot takes 3–5 s here, so suites share one node
 * per `describe` where their faults allow.
 */
export class ScratchBroker {
  /** AMQP URL of the plain listener, guest / guest (allowed: the listener is on loopback). */
  readonly url: string;
  private server?: ChildProcess;
  private serverExit?: Promise<void>;

  private constructor(
    readonly nodeName: string,
    readonly port: number,
    /** Port of the TLS listener, when started with `tls`. */
    readonly tlsPort: number | undefined,
    /** The node's own directory: config, cookie, data, logs. Removed by {@link stop}. */
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.url = `amqp://guest:guest@127.0.0.1:${port}`;
  }

  /**
   * Starts a fresh node and resolves once `rabbitmqctl await_startup` succeeds. `cookie` replaces the
   * node's random Erlang cookie: nodes that are to form a cluster must share one (scratch-cluster.ts).
   * `port` fixes the AMQP port (default: a free one).
   */
  static async start(options: { tls?: { cacertfile: string; certfile: string; keyfile: string }; cookie?: string; port?: number } = {}): Promise<ScratchBroker> {
    const free = await freePorts(options.tls ? 3 : 2);
    // A given AMQP port: a test that started an app against it before the broker existed.
    const [port, distPort, tlsPort] = options.port === undefined ? free : [options.port, ...free.slice(1)];
    const dir = mkdtempSync(join(tmpdir(), 'warren-fault-'));
    const nodeName = `warren-fault-${randomBytes(4).toString('hex')}@localhost`;
    const home = join(dir, 'home');
    for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(dir, sub));
    // Our own cookie: the CLI can reach only nodes that share it, i.e. never the shared broker.
    writeFileSync(join(home, '.erlang.cookie'), options.cookie ?? randomBytes(16).toString('hex').toUpperCase(), { mode: 0o400 });
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    // Keeps the machine's /etc/rabbitmq/rabbitmq-env.conf (NODENAME=rabbit@localhost) out of it.
    writeFileSync(join(dir, 'rabbitmq-env.conf'), 'ERL_EPMD_ADDRESS=127.0.0.1\n');
    const config = [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      'loopback_users = none',
      // The disk alarm must not fire on a busy CI disk; the memory alarm is set by hand in its test.
      'disk_free_limit.absolute = 1MB',
      'log.file.level = warning',
      ...EXTRA_CONFIG,
    ];
    if (options.tls) {
      config.push(
        `listeners.ssl.1 = 127.0.0.1:${tlsPort}`,
        `ssl_options.cacertfile = ${options.tls.cacertfile}`,
        `ssl_options.certfile = ${options.tls.certfile}`,
        `ssl_options.keyfile = ${options.tls.keyfile}`,
        'ssl_options.verify = verify_none',
        'ssl_options.fail_if_no_peer_cert = false',
      );
    }
    writeFileSync(join(dir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HOME: home,
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
    const broker = new ScratchBroker(nodeName, port!, tlsPort, dir, env);
    live.add(broker);
    try {
      await broker.boot();
    } catch (error) {
      await broker.stop();
      throw error;
    }
    return broker;
  }

  /** Runs `rabbitmqctl -n <this node> …args` and resolves with its output. */
  ctl(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(join(SBIN, 'rabbitmqctl'), ['-n', this.nodeName, ...args], { env: this.env, timeout: CTL_TIMEOUT_MS }, (error, stdout, stderr) => {
        if (error) reject(new Error(`rabbitmqctl ${args[0]} on ${this.nodeName} failed: ${error.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /** Starts the node's Erlang VM (again, after {@link kill}) on the same data directory. */
  async boot(): Promise<void> {
    const output = openSync(join(this.dir, 'log', 'server-output.log'), 'a');
    const server = spawn(join(SBIN, 'rabbitmq-server'), [], { env: this.env, stdio: ['ignore', output, output], detached: true });
    closeSync(output);
    this.server = server;
    this.serverExit = new Promise((resolve) => server.once('exit', () => resolve()));
    let exited = false;
    void this.serverExit.then(() => { exited = true; });
    // Generous: a node took over a minute to boot while three suites shared two cores.
    const deadline = Date.now() + 180_000;
    // await_startup fails at once while the node is not yet registered with epmd: poll until it answers.
    while (true) {
      try {
        await this.ctl('await_startup', '--timeout', '60');
        return;
      } catch (error) {
        if (exited || Date.now() > deadline) throw new Error(`${this.nodeName} did not start: ${(error as Error).message}\n${this.logTail()}`);
        await sleep(250);
      }
    }
  }

  /** The OS pid of the node's Erlang VM. */
  pid(): number {
    return Number(readFileSync(this.env.RABBITMQ_PID_FILE!, 'utf8').trim());
  }

  /** `kill -9` of the Erlang VM: no clean shutdown, no flush, what a power cut does to the broker. */
  async kill(): Promise<void> {
    process.kill(this.pid(), 'SIGKILL');
    await this.serverExit;
    this.server = undefined;
  }

  /** Stops the node (if running) and deletes its directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.server && this.server.exitCode === null && this.server.signalCode === null) {
      await this.ctl('stop').catch(() => undefined);
      const stopped = await Promise.race([this.serverExit!.then(() => true), sleep(20_000).then(() => false)]);
      if (!stopped) {
        try { process.kill(this.pid(), 'SIGKILL'); } catch { /* already gone */ }
        await this.serverExit;
      }
    }
    this.server = undefined;
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  /** Kills the VM at once: for the process `exit` handler only, where nothing can be awaited. */
  destroySync(): void {
    try { process.kill(this.pid(), 'SIGKILL'); } catch { /* not running */ }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private logTail(): string {
    for (const file of [join(this.dir, 'log', 'server-output.log'), join(this.dir, 'log', `${this.nodeName}.log`)]) {
      if (existsSync(file)) return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
    }
    return '(no log)';
  }
}

/**
 * Where the server scripts live; the /usr/sbin wrappers would switch user and drop our environment.
 * CI's 4.x legs point this at wrappers that run the 4.x chroot's scripts (.ci/rabbitmq4.sh fault-env).
 */
const SBIN = process.env.RABBITMQ_SBIN ?? '/usr/lib/rabbitmq/bin';

/** rabbitmqctl boots an Erlang VM per call: seconds each, far more on a loaded CI machine. */
const CTL_TIMEOUT_MS = 120_000;

/**
 * rabbitmq.conf lines every scratch node adds, from the file WARREN_SCRATCH_CONF names: CI's managed
 * 4.x leg gives scratch nodes quorum as the default queue type, like the broker it tests.
 */
const EXTRA_CONFIG = process.env.WARREN_SCRATCH_CONF
  ? readFileSync(process.env.WARREN_SCRATCH_CONF, 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'))
  : [];

/** True when this machine can start scratch nodes. */
export function scratchNodesAvailable(): boolean {
  return existsSync(join(SBIN, 'rabbitmq-server')) && existsSync(join(SBIN, 'rabbitmqctl'));
}

const live = new Set<ScratchBroker>();
// A test run that crashes or is interrupted must not leave scratch nodes behind.
process.once('exit', () => { for (const broker of live) broker.destroySync(); });

/** Ports the kernel reports free right now, distinct from each other. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
