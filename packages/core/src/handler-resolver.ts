import type { DependencyContainer } from 'tsyringe';
import type { ConsumerPlan } from './consumer-plan';
import { MessageContext } from './context';
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
      return child.resolve(type) as Record<string, unknown>;
    }
    let instance = appScoped.get(type);
    if (!instance) {
      if (!container.isRegistered(type, true)) container.registerSingleton(type);
      appScoped.set(type, (instance = container.resolve(type) as Record<string, unknown>));
    }
    return instance;
  };
}
