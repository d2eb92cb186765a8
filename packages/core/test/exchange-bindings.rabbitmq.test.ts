import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { injectable } from 'tsyringe';
import { AmqpTransport, Consumer, Warren, type Logger } from '../src';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { afterEachCleanup } from './support/cleanup';
import { until } from './support/until';

class Login {
  @IsString() user!: string;
}

const received: string[] = [];

@injectable()
class Audit {
  @Consumer('${B}', '#', { queue: '${Q}', exchangeType: 'topic', deadLetter: { queue: false } })
  async record(login: Login) {
    received.push(login.user);
  }
}

describeWithBroker('Exchange-to-exchange bindings on RabbitMQ', () => {
  let admin: AmqpTransport;
  let app: Warren | undefined;
  let env: Record<string, string>;
  const lines: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (message, fields) => lines.push(`${message} ${JSON.stringify(fields)}`), error: (message, fields) => lines.push(`${message} ${JSON.stringify(fields)}`) };

  beforeEach(async () => {
    env = { A: uniqueName('e2e-heal-a'), B: uniqueName('e2e-heal-b'), Q: uniqueName('e2e-heal-q') };
    received.length = 0;
    lines.length = 0;
    admin = new AmqpTransport({ url: AMQP_URL, connectionName: 'warren-e2e-admin' });
    await admin.connect();
  });

  afterEachCleanup('close the app, delete what it declared', async () => {
    await app?.close();
    app = undefined;
    for (const queue of [env.Q!, `${env.Q}.redelivered`]) await admin.deleteQueue(queue).catch(() => undefined);
    for (const exchange of [env.A!, env.B!]) await admin.deleteExchange(exchange).catch(() => undefined);
    await admin.close();
  });

  it('declares a deleted source exchange again with its exchange-to-exchange binding on the next publish', async () => {
    app = await Warren.start({
      url: AMQP_URL, handlers: [Audit], env, logger, telemetry: false,
      topology: { exchanges: [{ name: '${A}', type: 'topic' }], bindings: [{ source: '${A}', destination: '${B}', routingKey: 'login.#' }] },
    });
    await app.publish(env.A!, 'login.ok', { user: 'before' }, { mandatory: true });
    await until(() => received.length === 1, 5000);
    // An operator deletes the source exchange: RabbitMQ deletes its bindings with it.
    await admin.deleteExchange(env.A!);
    await app.publish(env.A!, 'login.ok', { user: 'after' }, { mandatory: true });
    await until(() => received.length === 2, 5000);
    expect(received).to.deep.equal(['before', 'after']);
    expect(lines.some((l) => l.includes('declared it again with its bindings') && l.includes(env.A!)), lines.join('\n')).to.equal(true);
  });
});
