import 'reflect-metadata';
import { AmqpConnection, RabbitMQModule, RabbitPayload, RabbitRPC, RabbitSubscribe } from '@golevelup/nestjs-rabbitmq';
import { Injectable, Module, ValidationPipe, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { OrderPlaced, OrderQuote } from '../../../dist/src/messages';
import { quoteOf, type PeerSide } from './side';

/**
 * @golevelup/nestjs-rabbitmq 9.0.2 in a NestJS 11 application context, as its users write it: a
 * provider with `@RabbitSubscribe` / `@RabbitRPC` handlers, `AmqpConnection.publish` (a confirm
 * channel of amqp-connection-manager) and `AmqpConnection.request` over direct reply-to.
 *
 * With `validated`, payloads are checked the way Nest users check them: Nest's own `ValidationPipe`
 * (class-transformer's `plainToInstance`, then class-validator's `validate`, whitelisting and
 * transforming like Warren) on the handler's payload parameter; replies and published messages,
 * which Nest has no pipe for, with the same two calls by hand. class-validator and
 * class-transformer are the repository's own copies, as Warren's, and the DTOs are the same classes.
 */
export function golevelup(validated: boolean): PeerSide {
  const payload = validated ? RabbitPayload(new ValidationPipe({ transform: true, whitelist: true })) : RabbitPayload();
  return {
    async consume({ url, queue, queueArguments, prefetch, onOrder }) {
      @Injectable()
      class Orders {
        @RabbitSubscribe({ queue, queueOptions: { durable: true, arguments: queueArguments } })
        async placed(@payloadParameter(payload) order: OrderPlaced): Promise<void> {
          onOrder(order);
        }
      }
      return start(url, prefetch, [Orders]);
    },

    async publisher(url, exchange, routingKey) {
      const app = await start(url, 10, []);
      const amqp = app.get(AmqpConnection);
      const options = { persistent: true, contentType: 'application/json' };
      return {
        send: validated
          ? async (order) => { await amqp.publish(exchange, routingKey, await checked(OrderPlaced, order), options); }
          : async (order) => { await amqp.publish(exchange, routingKey, order, options); },
        close: () => app.close(),
      };
    },

    async rpc({ url, queue, queueArguments, prefetch }) {
      @Injectable()
      class Quotes {
        @RabbitRPC({ queue, routingKey: queue, queueOptions: { durable: true, arguments: queueArguments } })
        async quote(@payloadParameter(payload) order: OrderPlaced): Promise<OrderQuote> {
          return quoteOf(order);
        }
      }
      const app = await start(url, prefetch, [Quotes]);
      const amqp = app.get(AmqpConnection);
      return {
        request: async (order) => {
          const reply = await amqp.request<OrderQuote>({ exchange: '', routingKey: queue, payload: validated ? await checked(OrderPlaced, order) : order, timeout: 10_000, publishOptions: { contentType: 'application/json' } });
          return validated ? checked(OrderQuote, reply) : reply;
        },
        close: () => app.close(),
      };
    },
  };
}

/** Applies the payload decorator chosen for the side (TypeScript wants a parameter decorator expression it can name). */
function payloadParameter(decorator: ParameterDecorator): ParameterDecorator {
  return decorator;
}

/** What a ValidationPipe does, for the places Nest has no pipe: plainToInstance, then validate. */
async function checked<T extends object>(type: new () => T, plain: unknown): Promise<T> {
  const instance = plainToInstance(type, plain, { excludeExtraneousValues: false });
  const errors = await validate(instance, { whitelist: true });
  if (errors.length > 0) throw new Error(`invalid ${type.name}: ${errors.map((e) => e.property).join(', ')}`);
  return instance;
}

async function start(url: string, prefetchCount: number, providers: Array<new (...args: never[]) => unknown>): Promise<INestApplicationContext> {
  @Module({
    imports: [RabbitMQModule.forRoot({
      uri: url,
      prefetchCount,
      connectionInitOptions: { wait: true, timeout: 10_000 },
      connectionManagerOptions: { connectionOptions: { noDelay: true } },
      defaultPublishOptions: { persistent: true },
    })],
    providers,
  })
  class PeersModule {}
  const app = await NestFactory.createApplicationContext(PeersModule, { logger: false });
  await app.init();
  return app;
}
