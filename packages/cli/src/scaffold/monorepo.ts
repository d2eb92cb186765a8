import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The version range of the Warren packages a service created outside the Warren repository depends on. */
export const WARREN_RANGE = `^${(require('../../../package.json') as { version: string }).version}`;

/**
 * The root of the Warren repository that `dir` lies in: the nearest folder above it whose
 * package.json declares npm workspaces including `packages/core`. Undefined outside it.
 *
 * @example
 * ```ts
 * findWarrenRepository('/work/main/examples/billing'); // '/work/main'
 * ```
 */
export function findWarrenRepository(dir: string): string | undefined {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const manifest = path.join(current, 'package.json');
    if (existsSync(manifest)) {
      const workspaces = readWorkspaces(manifest);
      if (workspaces.includes('packages/core') && existsSync(path.join(current, 'packages/core/package.json'))) return current;
    }
    if (path.dirname(current) === current) return undefined;
  }
}

function readWorkspaces(manifest: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown };
    const workspaces = Array.isArray(parsed.workspaces) ? parsed.workspaces : (parsed.workspaces as { packages?: unknown } | undefined)?.packages;
    return Array.isArray(workspaces) ? workspaces.filter((w): w is string => typeof w === 'string') : [];
  } catch {
    return [];
  }
}

/** The dependency specs of `@warren/core`, `@warren/testing` and `@warren/cli` for a new service. */
export interface WarrenDependencies {
  warrenCore: string;
  warrenTesting: string;
  warrenCli: string;
  /** The repository the specs point into, when the service lies inside one. */
  repository?: string;
}

/**
 * Inside the Warren repository a new service uses the packages next to it (`file:` references, so
 * it builds against the code being worked on); anywhere else, the published versions.
 */
export function warrenDependencies(serviceDir: string): WarrenDependencies {
  const repository = findWarrenRepository(serviceDir);
  if (!repository) return { warrenCore: WARREN_RANGE, warrenTesting: WARREN_RANGE, warrenCli: WARREN_RANGE };
  const reference = (pkg: string) => `file:${path.relative(path.resolve(serviceDir), path.join(repository, 'packages', pkg)).split(path.sep).join('/')}`;
  return { warrenCore: reference('core'), warrenTesting: reference('testing'), warrenCli: reference('cli'), repository };
}
