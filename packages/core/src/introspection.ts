import type { ClassSources } from './collect';
import type { TopologyOptions } from './options';

/** What a `Warren.start` call under introspection recorded: its classes, and the topology it declares. */
export type StartedOptions = ClassSources & { topology?: TopologyOptions };

/**
 * Introspection mode: tools that read a service's decorators (the `warren asyncapi`, `topology` and
 * `contract` commands) load its compiled modules, and those may call `Warren.start` / `Warren.run`
 * as they are loaded (a `main.js`, a script that sends something). While the mode is on, those calls
 * record their options and never connect, consume or publish: the promise they return stays pending,
 * so the code after `await Warren.start(...)` does not run either.
 *
 * The state lives on `globalThis` under a registered symbol so that a tool's copy of @warren/core
 * and the service's own copy agree on it.
 */
const MODE = Symbol.for('@warren/core:introspection');

/** What the modules loaded in introspection mode asked `Warren.start` for. */
export interface IntrospectionRecord {
  /** The options of each `Warren.start` / `Warren.run` call, in call order (the classes they name). */
  readonly started: StartedOptions[];
  /** Leaves introspection mode (restoring the mode that was on before, if any). */
  end(): void;
}

type Holder = Record<symbol, IntrospectionRecord | undefined>;

/**
 * Turns introspection mode on until `end()` is called.
 *
 * @example
 * ```ts
 * const record = beginIntrospection();
 * try { require('./dist/src/main.js'); } finally { record.end(); }
 * record.started[0]?.handlers; // the handler classes main.js passed to Warren.run
 * ```
 */
export function beginIntrospection(): IntrospectionRecord {
  const holder = globalThis as unknown as Holder;
  const previous = holder[MODE];
  const record: IntrospectionRecord = {
    started: [],
    end: () => { if (holder[MODE] === record) holder[MODE] = previous; },
  };
  holder[MODE] = record;
  return record;
}

/** The active introspection record, if a tool turned the mode on. */
export function activeIntrospection(): IntrospectionRecord | undefined {
  return (globalThis as unknown as Holder)[MODE];
}

/**
 * What `Warren.start` does first: under introspection, record the options and return a promise that
 * never settles (nothing connects, consumes or publishes); otherwise undefined, and the app starts.
 */
export function recordedStart(options: StartedOptions): Promise<never> | undefined {
  const record = activeIntrospection();
  if (!record) return undefined;
  record.started.push(options);
  return new Promise<never>(() => undefined);
}
