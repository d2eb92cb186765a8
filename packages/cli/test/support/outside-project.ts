import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';

/** The Warren repository the tests run in: its node_modules and built packages stand in for `npm install`. */
export const REPOSITORY = path.resolve(__dirname, '../../../../..');

/**
 * Gives a project outside the repository the packages `npm install` would: links to the repository's
 * node_modules and its built @warren packages. Links, not copies, so the project and @warren/core load
 * one tsyringe and one class-transformer, as npm's deduplication would arrange.
 */
export function linkDependencies(projectDir: string): void {
  const modules = path.join(projectDir, 'node_modules');
  mkdirSync(path.join(modules, '@warren'), { recursive: true });
  for (const name of readdirSync(path.join(REPOSITORY, 'node_modules'))) {
    if (name !== '@warren' && !name.startsWith('.')) symlinkSync(path.join(REPOSITORY, 'node_modules', name), path.join(modules, name));
  }
  for (const pkg of ['core', 'testing', 'cli']) symlinkSync(path.join(REPOSITORY, 'packages', pkg), path.join(modules, '@warren', pkg));
}

export interface Run { code: number; stdout: string; stderr: string }

/** Runs node with `args` in `cwd`, without AMQP_URL; never rejects. */
export function runNode(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, AMQP_URL: '', ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}
