import 'reflect-metadata';
import { IsInt, IsString, Length, Min } from 'class-validator';
import { Consumer, MemoryTransport, Publisher, route, silentLogger, Warren, type SettledEvent, type MessageContext, type WarrenOptions, type Route } from '@warren/core';
import { container, injectable } from 'tsyringe';

export class OrderPlaced {
  @IsString() @Length(1, 80) orderId!: string;
  @IsInt() @Min(0) total!: number;
}

export class OrderAccepted {
  @IsString() @Length(1, 80) orderId!: string;
}

@Publisher('${EX}', { type: 'topic' })
export class OrderEvents {
  placed: Route<OrderPlaced> = route('order.placed', OrderPlaced);
  accepted: Route<OrderAccepted> = route('order.accepted', OrderAccepted);
}

/** Records what reaches `order.accepted` (the relay's output), in arrival order. */
@injectable()
export class AcceptedSink {
  readonly received: Array<{ orderId: string; context: MessageContext }> = [];

  @Consumer('${EX}', 'order.accepted', { queue: '${EX}.accepted', exchangeType: 'topic', concurrency: 1, prefetch: 1 })
  async accepted(event: OrderAccepted, context: MessageContext) {
    this.received.push({ orderId: event.orderId, context });
  }
}

/** A Warren app on the in-memory broker with the fixtures' names resolved under a unique exchange. */
export async function startApp(exchange: string, extra: Partial<WarrenOptions> = {}): Promise<{ app: Warren; settled: SettledEvent[] }> {
  const settled: SettledEvent[] = [];
  const app = await Warren.start({
    transport: new MemoryTransport(), logger: silentLogger, telemetry: false, container: container.createChildContainer(),
    env: { EX: exchange }, handlers: [AcceptedSink], publishers: [OrderEvents], onSettled: (e) => settled.push(e), ...extra,
  });
  return { app, settled };
}
