import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from './errors';

/**
 * Every copy of @warren/core loaded in this process, by folder. Two copies do not see each other's
 * decorators (metadata keys are module-private), error classes or DI tokens, so a second copy makes
 * handlers look undecorated: `Warren.start` refuses it, naming both folders, instead of failing later
 * with a misleading message. The list lives on `globalThis` under a registered symbol because that is
 * the one place two copies share.
 */
const COPIES = Symbol.for('@warren/core:copies');

type Registry = Map<string, string>;

function registry(): Registry {
  const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (holder[COPIES] ??= new Map());
}

/** The package folder of this copy (two folders up from dist/src). */
const HERE = (() => {
  const folder = path.resolve(__dirname, '../..');
  try {
    return realpathSync(folder);
  } catch {
    return folder;
  }
})();

registry().set(HERE, readVersion());

function readVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(path.join(HERE, 'package.json')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The folders of every @warren/core copy loaded so far, this one first. */
export function loadedCopies(): Array<{ folder: string; version: string }> {
  const all = [...registry()].map(([folder, version]) => ({ folder, version }));
  return [...all.filter((c) => c.folder === HERE), ...all.filter((c) => c.folder !== HERE)];
}

/** Throws a `ConfigurationError` naming every folder when more than one copy of @warren/core is loaded. */
export function assertSingleCopy(): void {
  const copies = loadedCopies();
  if (copies.length < 2) return;
  const list = copies.map((c) => `${c.folder} (${c.version})`).join(' and ');
  throw new ConfigurationError(
    `Two copies of @warren/core are loaded: ${list}. Decorators recorded by one are invisible to the other, so handlers would look undecorated. ` +
    'Make every @warren/* package use one copy: give @warren/core the same version everywhere, then run `npm dedupe` (`npm ls @warren/core` shows who brings which).',
  );
}
