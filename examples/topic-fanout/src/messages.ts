import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, Length } from 'class-validator';

/** Every event on the topic exchange `events` (`order.created`, `order.cancelled`, `payment.cancelled`…). */
export class DomainEvent {
  @IsUUID() orderId!: string;
  @IsOptional() @IsString() @Length(1, 200) reason?: string;
}

/** One line of the audit trail, published on the fanout exchange `audit`. */
export class AuditEntry {
  @IsIn(['cancellation-reviewed']) action!: 'cancellation-reviewed';
  @IsString() routingKey!: string;
  @IsUUID() orderId!: string;
  @IsISO8601() at!: string;
}
