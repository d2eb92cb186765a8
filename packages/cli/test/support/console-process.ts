import { spawn, type ChildProcess } from 'node:child_process';
import { WARREN_BIN } from './cli';

export interface RunningConsole {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** The action token it printed, when started with --allow-actions. */
  token?: string;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const READY = 'Press Ctrl+C to stop.';

/** Starts `warren ui <args>` as a user would, and waits (at most 30 s) for its ready line. */
export function startConsole(args: readonly string[]): Promise<RunningConsole> {
  const child: ChildProcess = spawn(process.execPath, [WARREN_BIN, 'ui', ...args], { env: { ...process.env, AMQP_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => { void stop(); reject(new Error(`warren ui printed no ready line within 30 s:\n${output}`)); }, 30_000);
    const exited = (code: number | null) => { clearTimeout(deadline); reject(new Error(`warren ui exited (${String(code)}) before it was ready:\n${output}`)); };
    child.once('exit', exited);
    child.stdout!.on('data', () => {
      if (!output.includes(READY)) return;
      clearTimeout(deadline);
      child.off('exit', exited);
      const url = /on (http:\/\/\S+\/)\n/.exec(output)?.[1];
      if (!url) return reject(new Error(`no URL in the output of warren ui:\n${output}`));
      resolve({ url, token: /\n {2}token: (\S+)\n/.exec(output)?.[1], output: () => output, stop });
    });
  });
}
