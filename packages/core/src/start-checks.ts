import { getMetadataStorage } from 'class-validator';
import type { ConsumerPlan } from './consumer-plan';
import { ConfigurationError } from './errors';
import type { PublisherPlan } from './publishing';

/** Checks `Warren.start` makes before it connects, so mistakes fail the same way on every broker. */

/**
 * A payload class without any class-validator decorator would make class-validator refuse every
 * message ("an unknown value was passed to the validate function"), so each one would be
 * dead-lettered. Refused at start instead, naming the consumer and the two ways out.
 */
/** Every check below, for the consumers and publishers an app starts with. */
export function assertStartable(consumers: readonly ConsumerPlan[], publishers: readonly PublisherPlan[]): void {
  assertPayloadClassesDecorated(consumers);
  assertExchangeTypes(consumers, publishers);
}

export function assertPayloadClassesDecorated(consumers: readonly ConsumerPlan[]): void {
  const storage = getMetadataStorage();
  for (const plan of consumers) {
    const type = plan.payloadType;
    if (!type || !plan.validator) continue;
    // The same lookup class-validator's executor makes (inherited decorators included, no groups).
    if (storage.getTargetValidationMetadatas(type, undefined as unknown as string, false, false, undefined).length > 0) continue;
    throw new ConfigurationError(
      `${plan.id}: its payload class ${type.name} has no class-validator decorators, so every message would fail validation. ` +
      `Decorate the properties of ${type.name} (@IsString(), @IsInt(), @ValidateNested()…; @Allow() accepts a property as it is), ` +
      'or take unvalidated JSON with @Consumer(exchange, routingKey, { message: Object }).',
    );
  }
}

const EXCHANGE_TYPES = new Set(['direct', 'topic', 'fanout', 'headers']);

/**
 * An unknown exchange type (a typo, or a value from configuration) is refused before anything is
 * declared: RabbitMQ would close the connection with COMMAND_INVALID, the in-memory broker would
 * refuse the declaration; both get this one ConfigurationError instead. Plugin types (`x-…`, e.g.
 * `x-delayed-message`) pass through to the broker.
 */
export function assertExchangeTypes(consumers: readonly ConsumerPlan[], publishers: readonly PublisherPlan[]): void {
  const check = (type: unknown, exchange: string, owner: string) => {
    if (typeof type === 'string' && (EXCHANGE_TYPES.has(type) || type.startsWith('x-'))) return;
    throw new ConfigurationError(`${owner}: exchange "${exchange}" has the unknown type ${JSON.stringify(type)}. Use 'direct', 'topic', 'fanout' or 'headers' (or a plugin's 'x-…' type).`);
  };
  for (const plan of consumers) check(plan.exchangeType, plan.exchange, plan.id);
  for (const plan of publishers) check(plan.exchange.type, plan.exchange.name, `@Publisher ${plan.publisherClass.name}`);
}
