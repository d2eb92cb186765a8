import 'reflect-metadata';
import type { ConsumerOptions, PublisherOptions, RouteDefinition } from './options';

/**
 * The one place that reads and writes reflect metadata. Metadata lives on the decorated classes
 * themselves (no global registry to reset between tests); keys are private symbols, and the rest of
 * Warren — and the CLI — goes through the typed getters below.
 */
if (typeof Reflect.getMetadata !== 'function') {
  throw new Error('@warren/core needs reflect-metadata: add `import "reflect-metadata"` at the top of your entry file.');
}

const CONSUMERS = Symbol('warren:consumers');
const PUBLISHER = Symbol('warren:publisher');
const ROUTE = Symbol('warren:route');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Class<T = unknown> = new (...args: any[]) => T;

/** What `@Consumer` recorded for one method. */
export interface ConsumerDefinition {
  handlerClass: Class;
  method: string;
  exchange: string | (() => string);
  routingKeys: Array<string | (() => string)>;
  options: ConsumerOptions;
  /** `design:paramtypes` of the method, as the compiler emitted them. */
  parameterTypes: readonly unknown[];
}

/** What `@Publisher` recorded for a class. */
export interface PublisherDefinition {
  publisherClass: Class;
  exchange: string | (() => string);
  options: PublisherOptions;
}

export function addConsumer(definition: ConsumerDefinition): void {
  const target = definition.handlerClass;
  const own: ConsumerDefinition[] = Reflect.getOwnMetadata(CONSUMERS, target) ?? [];
  Reflect.defineMetadata(CONSUMERS, [...own, definition], target);
}

/** The `@Consumer` methods of a handler class (including inherited ones), in declaration order. */
export function getConsumers(handlerClass: Class): readonly ConsumerDefinition[] {
  const found: ConsumerDefinition[] = [];
  const seen = new Set<string>();
  for (let c: unknown = handlerClass; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    for (const d of (Reflect.getOwnMetadata(CONSUMERS, c as object) ?? []) as ConsumerDefinition[]) {
      if (seen.has(d.method)) continue;
      seen.add(d.method);
      found.push(d.handlerClass === handlerClass ? d : { ...d, handlerClass });
    }
  }
  return found;
}

export function methodParameterTypes(prototype: object, method: string): readonly unknown[] {
  return Reflect.getMetadata('design:paramtypes', prototype, method) ?? [];
}

/** Where tsyringe's `@inject(token)` family records its parameter tokens (tsyringe 4.x). */
const TSYRINGE_INJECTION_TOKENS = 'injectionTokens';

/**
 * What a class's constructor asks for, used to find the publisher classes a handler depends on: the
 * compiler's `design:paramtypes`, and the tokens of tsyringe's `@inject(...)` parameter decorators.
 *
 * Both are needed. `@injectable()` rewrites `design:paramtypes` in place, replacing each `@inject`ed
 * entry with a `{ token }` descriptor; and a parameter typed by an interface has `Object` as its
 * design type, so only the `@inject` token names the publisher. Descriptors are unwrapped, and a
 * `delay(() => X)` token is resolved to `X` (by then every module has loaded).
 *
 * @example
 * ```ts
 * constructorDependencies(Billing); // [OrderEvents, Ledger]
 * ```
 */
export function constructorDependencies(type: Class): readonly unknown[] {
  const designed: unknown[] = Reflect.getMetadata('design:paramtypes', type) ?? [];
  const injected: Record<string, unknown> = Reflect.getOwnMetadata(TSYRINGE_INJECTION_TOKENS, type) ?? {};
  return [...designed, ...Object.values(injected)].map(injectionTarget);
}

/** The class an injection token stands for: a class itself, a tsyringe descriptor's token, or a delayed class. */
function injectionTarget(token: unknown): unknown {
  if (typeof token !== 'object' || token === null) return token;
  if ('token' in token) return injectionTarget((token as { token: unknown }).token);
  // tsyringe's DelayedConstructor (from `delay(() => X)`) keeps its thunk in `wrap`.
  const wrap = (token as { wrap?: unknown }).wrap;
  if (typeof wrap === 'function' && typeof (token as { createProxy?: unknown }).createProxy === 'function') {
    try {
      return wrap();
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function setPublisher(definition: PublisherDefinition): void {
  Reflect.defineMetadata(PUBLISHER, definition, definition.publisherClass);
}

export function getPublisher(type: unknown): PublisherDefinition | undefined {
  if (typeof type !== 'function') return undefined;
  return Reflect.getOwnMetadata(PUBLISHER, type);
}

export function isHandlerClass(type: unknown): type is Class {
  return typeof type === 'function' && getConsumers(type as Class).length > 0;
}

/** Marks a function created by `route()` with its definition. */
export function markRoute(fn: object, definition: RouteDefinition): void {
  Object.defineProperty(fn, ROUTE, { value: definition });
}

export function getRoute(value: unknown): RouteDefinition | undefined {
  return typeof value === 'function' ? (value as unknown as Record<symbol, RouteDefinition>)[ROUTE] : undefined;
}

/**
 * The routes of a publisher class. Routes are property initialisers, so the class is constructed
 * once (without arguments) to read them; publisher classes are declarations and take no dependencies.
 */
export function getPublisherRoutes(type: Class): Array<{ property: string; route: RouteDefinition }> {
  const instance = new type() as Record<string, unknown>;
  return Object.keys(instance).flatMap((property) => {
    const route = getRoute(instance[property]);
    return route ? [{ property, route }] : [];
  });
}
