import type { DependencyContainer } from 'tsyringe';
import type { ConsumerPlan } from './consumer-plan';
import { MessageContext } from './context';
import { ConfigurationError } from './errors';
import type { Class } from './metadata';

/**
 * How a consumer's handler instance is found for a message. `scope: 'app'` (the default) resolves
 * once and reuses the instance — registered as a singleton so `app.get(Handler)` returns the same
 * one. `scope: 'message'` resolves from a child container per message, with the message's
 * `MessageContext` injectable and `Lifecycle.ContainerScoped` dependencies living one message.
 */
export function createHandlerResolver(container: DependencyContainer): (plan: ConsumerPlan, context: MessageContext) => Record<string, unknown> {
  const appScoped = new Map<Class, Record<string, unknown>>();
  return (plan, context) => {
    const type = plan.definition.handlerClass;
    if (plan.scope === 'message') {
      const child = container.createChildContainer();
      child.registerInstance(MessageContext, context);
      return construct(() => child.resolve(type) as Record<string, unknown>, type);
    }
    let instance = appScoped.get(type);
    if (!instance) {
      if (!container.isRegistered(type, true)) container.registerSingleton(type);
      appScoped.set(type, (instance = construct(() => container.resolve(type) as Record<string, unknown>, type)));
    }
    return instance;
  };
}

/**
 * tsyringe's own errors ("TypeInfo not known for X", "Cannot inject the dependency at position #0")
 * do not say what to change; they become a ConfigurationError naming the class and the usual fixes.
 */
function construct<T>(resolve: () => T, type: Class): T {
  try {
    return resolve();
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    if (!/TypeInfo not known|Cannot inject the dependency|Attempted to construct an undefined constructor|Attempted to resolve unregistered dependency/.test(message)) throw error;
    throw new ConfigurationError(
      `tsyringe could not construct ${type.name}: ${message.split('\n')[0]} Likely fixes: decorate ${type.name} (and each class it injects) with @injectable() or @singleton() from tsyringe; ` +
      'set "experimentalDecorators" and "emitDecoratorMetadata" in tsconfig.json and import \'reflect-metadata\' before anything else; ' +
      'register constructor parameters that are interfaces, strings or numbers (providers: [{ provide, useValue }] in tests, container.register… otherwise).',
      { cause: error },
    );
  }
}
