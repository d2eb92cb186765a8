import { ConfigurationError } from './errors';
import type { WarrenConfig } from './config';
import { constructorDependencies, getConsumers, getPublisher, type Class, type ConsumerDefinition } from './metadata';
import { scanModules } from './scan';

/** Where an app's classes come from (the matching fields of `WarrenOptions`). */
export interface ClassSources {
  handlers?: Class[];
  publishers?: Class[];
  scan?: string[];
}

/**
 * The handler and publisher classes an app runs: those given, those scanned, and every publisher
 * class reachable through handlers' constructor types. Fails on a class without its decorator.
 */
export function collectClasses(options: ClassSources): { handlers: Class[]; publishers: Class[] } {
  const handlers = new Set<Class>(options.handlers ?? []);
  const publishers = new Set<Class>(options.publishers ?? []);
  if (options.scan?.length) {
    const scanned = scanModules(options.scan);
    scanned.handlers.forEach((h) => handlers.add(h));
    scanned.publishers.forEach((p) => publishers.add(p));
  }
  for (const handler of handlers) {
    if (getConsumers(handler).length > 0) continue;
    // A @Publisher class listed with the handlers (as NestJS providers are) is a publisher to bind.
    if (getPublisher(handler)) {
      handlers.delete(handler);
      publishers.add(handler);
      continue;
    }
    throw new ConfigurationError(`${handler.name} was passed as a handler but has no @Consumer methods: decorate a method with @Consumer(exchange, routingKey), or pass a @Publisher class (or none).`);
  }
  for (const p of publishers) {
    if (!getPublisher(p)) throw new ConfigurationError(`${p.name} was passed as a publisher but has no @Publisher decorator.`);
  }
  // Publisher classes that handlers (or their dependencies) inject are found through constructor types.
  const seen = new Set<unknown>();
  const visit = (type: unknown) => {
    if (typeof type !== 'function' || seen.has(type)) return;
    seen.add(type);
    if (getPublisher(type)) publishers.add(type as Class);
    for (const dep of constructorDependencies(type as Class)) visit(dep);
  };
  handlers.forEach(visit);
  return { handlers: [...handlers], publishers: [...publishers] };
}

export function withOverrides(definition: ConsumerDefinition, overrides: WarrenConfig['consumers']): ConsumerDefinition {
  if (!overrides) return definition;
  const byId = overrides[`${definition.handlerClass.name}.${definition.method}`];
  const byQueue = typeof definition.options.queue === 'string' ? overrides[definition.options.queue] : undefined;
  const extra = byId ?? byQueue;
  return extra ? { ...definition, options: { ...definition.options, ...extra } } : definition;
}
