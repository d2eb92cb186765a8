#!/usr/bin/env node
// Keeps every reference to a Warren package in step with the version lerna releases.
//
// `lerna version` bumps the packages in lerna.json (packages/*) and their dependencies and
// devDependencies on each other, but not peer ranges (by design), and not the workspaces it does
// not manage (the private examples). Left alone, the examples' exact "@warren/core": "<old>" makes
// lerna's own `npm install --package-lock-only` fail with E404 (npm then looks for the old version
// on the public registry), and a minor bump leaves the peer ranges of @warren/testing, @warren/cli
// and @warren/postgres excluding the core they were released with.
//
//   node scripts/sync-versions.mjs            rewrites them (the root `version` lifecycle script,
//                                             which lerna runs after bumping, before the lockfile
//                                             update and its commit; changed files are `git add`ed)
//   node scripts/sync-versions.mjs --check    exits 1 listing every reference out of step
//
// The rule: lerna.json's version V; every package in packages/* at V; every @warren peer range
// `^V`; every other @warren dependency of a package `V` or `^V`; every @warren dependency of an
// example exactly `V`; package-lock.json's entries for packages/* at V.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const manifests = (dir) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)) : [])
  .map((name) => join(root, dir, name, 'package.json'))
  .filter((file) => existsSync(file));

const version = readJson(join(root, 'lerna.json')).version;
const packageFiles = manifests('packages');
const released = new Set(packageFiles.map((file) => readJson(file).name));
const problems = [];
const changed = [];

/** Sets (or, with --check, verifies) the spec of every released package among `deps`. */
function align(file, manifest, field, wanted, accepts = (spec) => spec === wanted) {
  const deps = manifest[field];
  if (!deps) return false;
  let edited = false;
  for (const name of Object.keys(deps)) {
    if (!released.has(name) || accepts(deps[name])) continue;
    if (check) problems.push(`${relative(root, file)}: ${field}["${name}"] is "${deps[name]}", expected "${wanted}"`);
    else { deps[name] = wanted; edited = true; }
  }
  return edited;
}

for (const file of packageFiles) {
  const manifest = readJson(file);
  if (manifest.version !== version) problems.push(`${relative(root, file)}: version is ${manifest.version}, lerna.json says ${version}`);
  let edited = align(file, manifest, 'peerDependencies', `^${version}`);
  for (const field of ['dependencies', 'devDependencies']) {
    edited = align(file, manifest, field, version, (spec) => spec === version || spec === `^${version}`) || edited;
  }
  if (edited) { writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`); changed.push(file); }
}
for (const file of manifests('examples')) {
  const manifest = readJson(file);
  let edited = false;
  for (const field of ['dependencies', 'devDependencies']) edited = align(file, manifest, field, version) || edited;
  if (edited) { writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`); changed.push(file); }
}
if (check) {
  const lockFile = join(root, 'package-lock.json');
  const lock = existsSync(lockFile) ? readJson(lockFile) : { packages: {} };
  for (const file of packageFiles) {
    const key = relative(root, dirname(file)).split('\\').join('/');
    const locked = lock.packages?.[key]?.version;
    if (locked !== version) problems.push(`package-lock.json: "${key}" is at ${locked}, expected ${version}`);
  }
  if (problems.length) {
    console.error(`Warren package versions out of step with ${version}:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`every Warren package at ${version}; peer ranges ^${version}; examples on ${version}; package-lock.json in step`);
} else {
  for (const file of changed) console.log(`synced ${relative(root, file)} to ${version}`);
  if (changed.length && existsSync(join(root, '.git'))) {
    try { execFileSync('git', ['add', ...changed], { cwd: root, stdio: 'ignore' }); } catch { /* not a git checkout */ }
  }
}
