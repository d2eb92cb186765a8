import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from './errors';
import { getPublisher, isHandlerClass, type Class } from './metadata';

/** Turns a glob (`dist/**\/*.handlers.js`) into a regular expression over `/`-separated paths. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${source}$`);
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
}

/** Files under `cwd` matching any of the globs, sorted. */
export function findFiles(globs: readonly string[], cwd: string): string[] {
  const patterns = globs.map((g) => globToRegExp(g.replace(/\\/g, '/').replace(/^\.\//, '')));
  const files: string[] = [];
  walk(cwd, files);
  return files
    .map((f) => path.relative(cwd, f).split(path.sep).join('/'))
    .filter((rel) => patterns.some((p) => p.test(rel)))
    .sort()
    .map((rel) => path.join(cwd, rel));
}

/** Loads compiled modules and returns the handler and publisher classes they export. */
export function scanModules(globs: readonly string[], cwd = process.cwd()): { handlers: Class[]; publishers: Class[] } {
  const files = findFiles(globs, cwd);
  if (files.length === 0) throw new ConfigurationError(`scan: no file matches ${globs.join(', ')} under ${cwd}. Scan compiled .js files (e.g. 'dist/**/*.handlers.js').`);
  const handlers = new Set<Class>();
  const publishers = new Set<Class>();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(file) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (isHandlerClass(value)) handlers.add(value);
      else if (getPublisher(value)) publishers.add(value as Class);
    }
  }
  return { handlers: [...handlers], publishers: [...publishers] };
}
