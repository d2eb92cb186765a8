import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { AppTopologyPlan, Class, ConsumerPlan, PublisherPlan, TopologyOptions } from '@warren/core';
import { beginIntrospection, ConfigurationError } from '@warren/core';
import type { ClassMetadataSources } from './json-schema';

type CoreModule = typeof import('@warren/core');

/** What the CLI knows about a service after loading its compiled modules. */
export interface LoadedService {
  /** The compiled files that were loaded. */
  files: string[];
  consumers: ConsumerPlan[];
  publishers: PublisherPlan[];
  /** Exchange-to-exchange bindings (publishers' and `Warren.start({ topology })`'s) and the extra exchanges to declare. */
  topology: AppTopologyPlan;
  /** The nearest package.json above the first entry, if any. */
  packageJson?: { name?: string; version?: string; description?: string };
  /** Class metadata as the service's own class-validator / class-transformer recorded it. */
  metadata: ClassMetadataSources;
  /** The options of each `Warren.start` / `Warren.run` the modules called (recorded, never run). */
  started: ReadonlyArray<Record<string, unknown>>;
  /** The service's own copy of `@warren/core` (to start it for real: `warren replay`). */
  core: CoreModule;
}

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Loads a service's compiled modules (files or globs of `.js` files) and plans every `@Consumer`
 * and `@Publisher` they export, as `Warren.start()` would.
 *
 * The modules are loaded in introspection mode: a module that calls `Warren.start` / `Warren.run`
 * (a `main.js`, a script that sends) only records the classes it passes, which are planned too;
 * nothing connects, consumes or publishes.
 *
 * The service's own copy of `@warren/core` (and of class-validator / class-transformer) reads the
 * metadata: decorators record it in module-private storage, so a globally installed CLI with its
 * own copy would otherwise see no handlers at all.
 *
 * @example
 * ```ts
 * const service = loadService(['dist/src/handlers/*.js']);
 * service.consumers.map((c) => c.queue); // ['billing.order-created', …]
 * ```
 */
export function loadService(entries: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): LoadedService {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (entries.length === 0) throw new ConfigurationError('No entry given: pass the compiled module(s) that export your handler and publisher classes, e.g. dist/src/handlers.js or "dist/**/*.handlers.js".');
  const anchor = path.resolve(cwd, firstPlainPath(entries) ?? '.');
  const core = serviceModule<CoreModule>(anchor, '@warren/core') ?? (require('@warren/core') as CoreModule);

  const handlers = new Set<Class>();
  const publishers = new Set<Class>();
  const files: string[] = [];
  const topologies: TopologyOptions[] = [];
  const collect = (exports: Record<string, unknown>) => {
    for (const value of Object.values(exports)) {
      if (core.isHandlerClass(value)) handlers.add(value);
      else if (core.getPublisher(value)) publishers.add(value as Class);
    }
  };
  const introspection = beginIntrospection();
  const recorded: Array<Record<string, unknown>> = [];
  try {
    loadEntries(entries, cwd, core, collect, handlers, publishers, files);
    for (const started of introspection.started) {
      recorded.push(started as Record<string, unknown>);
      if (started.topology) topologies.push(started.topology);
      (started.handlers ?? []).forEach((h) => (core.isHandlerClass(h) ? handlers : publishers).add(h));
      (started.publishers ?? []).forEach((p) => publishers.add(p));
      // `scan` globs resolve against the working directory, as Warren.start resolves them.
      if (started.scan?.length) {
        const scanned = core.scanModules(started.scan);
        scanned.handlers.forEach((h) => handlers.add(h));
        scanned.publishers.forEach((p) => publishers.add(p));
      }
    }
  } finally {
    introspection.end();
  }
  addInjectedPublishers(handlers, publishers, core);
  if (handlers.size === 0 && publishers.size === 0) {
    throw new ConfigurationError(`${entries.join(', ')} export no @Consumer handler class and no @Publisher class, and start no Warren app. Pass the compiled modules that export them, e.g. dist/src/handlers/*.js, or the main.js that passes them to Warren.run.`);
  }
  // The CLI cannot see options a service passes at start (an app-wide `retry`, say): plans use
  // Warren.start()'s defaults, and every per-consumer option.
  const consumers = [...handlers].flatMap((h) => core.getConsumers(h).map((d) => core.planConsumer(d, core.DEFAULT_CONSUMER_SETTINGS, env)));
  const publisherPlans = [...publishers].filter((p) => core.getPublisher(p)).map((p) => core.planPublisher(core.getPublisher(p)!, env));
  const topology = appTopology(core, topologies, publisherPlans, env);
  return { files, consumers, publishers: publisherPlans, topology, packageJson: nearestPackageJson(anchor), metadata: metadataSources(anchor), started: recorded, core };
}

/**
 * The exchanges and exchange-to-exchange bindings the service declares at start, whatever its
 * `declare` setting (`--print` is for services that do not declare). A service built on a
 * @warren/core without them declares none.
 */
function appTopology(core: CoreModule, topologies: readonly TopologyOptions[], publishers: readonly PublisherPlan[], env: Record<string, string | undefined>): AppTopologyPlan {
  if (typeof core.planAppTopology !== 'function') return { exchanges: [], bindings: [] };
  const merged: TopologyOptions = { exchanges: topologies.flatMap((t) => t.exchanges ?? []), bindings: topologies.flatMap((t) => t.bindings ?? []) };
  return core.planAppTopology(merged, publishers.map((p) => ({ neededBy: p.publisherClass.name, bindings: p.bindings ?? [], declare: true })), true, env);
}

function loadEntries(entries: readonly string[], cwd: string, core: CoreModule, collect: (exports: Record<string, unknown>) => void, handlers: Set<Class>, publishers: Set<Class>, files: string[]): void {
  for (const entry of entries) {
    if (GLOB_CHARS.test(entry)) {
      const { base, pattern } = splitGlob(path.resolve(cwd, entry));
      const scanned = core.scanModules([pattern], base);
      scanned.handlers.forEach((h) => handlers.add(h));
      scanned.publishers.forEach((p) => publishers.add(p));
      files.push(entry);
      continue;
    }
    const file = path.resolve(cwd, entry);
    assertLoadable(file, entry);
    files.push(file);
    collect(loadModule(file));
  }
}

function firstPlainPath(entries: readonly string[]): string | undefined {
  const plain = entries.find((e) => !GLOB_CHARS.test(e));
  if (plain) return plain;
  const first = entries[0];
  return first === undefined ? undefined : splitGlob(first).base;
}

/** `/srv/app/dist/**\/*.js` → base `/srv/app/dist`, pattern `**\/*.js`. */
function splitGlob(glob: string): { base: string; pattern: string } {
  const parts = glob.split(/[\\/]/);
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  return { base: parts.slice(0, firstGlob).join('/') || '/', pattern: parts.slice(firstGlob).join('/') };
}

function assertLoadable(file: string, entry: string): void {
  if (!existsSync(file)) throw new ConfigurationError(`${entry}: no such file. Build the service first (npm run build) and pass the compiled .js file.`);
  if (statSync(file).isDirectory()) throw new ConfigurationError(`${entry} is a folder: pass compiled .js files or a glob such as "${path.join(entry, '**/*.js')}".`);
  if (/\.(c|m)?ts$/.test(file) && !file.endsWith('.d.ts')) {
    throw new ConfigurationError(`${entry} is TypeScript source: pass the compiled .js file (decorator metadata only exists in tsc's output).`);
  }
}

function loadModule(file: string): Record<string, unknown> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`Could not load ${file}: ${(error as Error).message}`);
  }
}

/** Publisher classes reachable through handler constructors, as `Warren.start()` finds them. */
function addInjectedPublishers(handlers: Set<Class>, publishers: Set<Class>, core: CoreModule): void {
  const seen = new Set<unknown>();
  const visit = (type: unknown) => {
    if (typeof type !== 'function' || seen.has(type)) return;
    seen.add(type);
    if (core.getPublisher(type)) publishers.add(type as Class);
    for (const dependency of core.constructorDependencies(type as Class)) visit(dependency);
  };
  handlers.forEach(visit);
}

/** Requires a package as the service at `anchor` would resolve it, or undefined when it cannot. */
function serviceModule<T>(anchor: string, id: string): T | undefined {
  const from = existsSync(anchor) && statSync(anchor).isDirectory() ? path.join(anchor, 'index.js') : anchor;
  try {
    return createRequire(from)(id) as T;
  } catch {
    return undefined;
  }
}

/** class-validator and class-transformer as the service loaded them (the CLI's core's copies otherwise). */
export function metadataSources(anchor?: string): ClassMetadataSources {
  const fallback = createRequire(require.resolve('@warren/core'));
  const load = <T>(id: string): T => (anchor ? serviceModule<T>(anchor, id) : undefined) ?? (fallback(id) as T);
  return {
    validation: load<{ getMetadataStorage(): ClassMetadataSources['validation'] }>('class-validator').getMetadataStorage(),
    transformer: load<{ defaultMetadataStorage: ClassMetadataSources['transformer'] }>('class-transformer/cjs/storage').defaultMetadataStorage,
  };
}

function nearestPackageJson(anchor: string): LoadedService['packageJson'] {
  for (let dir = path.dirname(anchor); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as LoadedService['packageJson'];
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}
