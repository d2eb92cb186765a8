import { execFile } from 'node:child_process';
import * as path from 'node:path';

/** The compiled `warren` binary. */
export const WARREN_BIN = path.resolve(__dirname, '../../src/bin.js');

/** Compiled fixture modules (test/fixtures/*.ts). */
export function fixture(name: string): string {
  return path.resolve(__dirname, '../fixtures', `${name}.js`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `warren <args>` as a child process, as a user would. */
export function runWarren(args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [WARREN_BIN, ...args], {
      cwd: options.cwd,
      env: definedOnly({ ...process.env, AMQP_URL: undefined, ...options.env }),
      maxBuffer: 16 * 1024 * 1024,
      // A command that does not exit by itself (a service it loaded kept running) fails the test.
      timeout: 60_000,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : NaN) : 0;
      if (Number.isNaN(code)) return reject(error);
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** An environment without the variables set to undefined (child processes would see "undefined"). */
function definedOnly(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}
