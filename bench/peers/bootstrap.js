#!/usr/bin/env node
/**
 * `npm run bench:peers [-- --smoke | --rounds=N | --only=… | --sides=…]`: the peers bench has
 * dependencies of its own (amqplib, golevelup + NestJS, Rascal) that the repository's `npm ci` never
 * installs. This installs them from bench/peers/package-lock.json when they are missing or the
 * lockfile changed since (`npm ci`), compiles bench/peers, and runs it with the given flags.
 * Plain JavaScript: it runs before anything of bench/peers is installed or built.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const here = __dirname;
const root = join(here, '..', '..');
const stamp = join(here, 'node_modules', '.warren-lock-hash');
const lockHash = createHash('sha256').update(readFileSync(join(here, 'package-lock.json'))).digest('hex');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  console.log('[peers] installing bench/peers dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here });
  writeFileSync(stamp, lockHash);
}
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', here]);
run(process.execPath, [join(here, 'dist', 'run.js'), ...process.argv.slice(2)]);
