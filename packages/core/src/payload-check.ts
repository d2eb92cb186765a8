import { getMetadataStorage } from 'class-validator';
import type { ConsumerPlan } from './consumer-plan';
import { ConfigurationError } from './errors';

/**
 * A payload class without any class-validator decorator would make class-validator refuse every
 * message ("an unknown value was passed to the validate function"), so each one would be
 * dead-lettered. Refused at start instead, naming the consumer and the two ways out.
 */
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
