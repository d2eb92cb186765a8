// The parts of NestJS and @golevelup/nestjs-rabbitmq that docs/migrating-from-nestjs.md shows, with
// the signatures those packages publish, so its "before" blocks are type-checked without installing them.
declare module '@nestjs/common' {
  export function Injectable(): ClassDecorator;
}

declare module '@golevelup/nestjs-rabbitmq' {
  export class Nack {
    constructor(requeue?: boolean);
  }
  export interface RabbitHandlerConfig {
    exchange?: string;
    routingKey?: string | string[];
    queue?: string;
  }
  export function RabbitSubscribe(config: RabbitHandlerConfig): MethodDecorator;
  export class AmqpConnection {
    publish<T = unknown>(exchange: string, routingKey: string, message: T, options?: object): Promise<boolean>;
  }
}
