import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { injectable } from 'tsyringe';
import { Warren, type WarrenOptions } from '../../src/app';
import type { MessageContext } from '../../src/context';
import { Consumer, Publisher, route } from '../../src/decorators';
import { TopologyError, UnroutableError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import { eventually, rejectionOf, type ConformanceContext } from './context';

class Login {
  @IsString() user!: string;
}

const received: Array<{ user: string; exchange: string; routingKey: string }> = [];

/** Bound to exchange B only: messages reach it from A through an exchange-to-exchange binding. */
@injectable()
class AuditLog {
  @Consumer('${B}', '#', { queue: '${Q}', exchangeType: 'topic', deadLetter: { exchange: '${Q}.dlx' } })
  async record(login: Login, ctx: MessageContext) {
    received.push({ user: login.user, exchange: ctx.exchange, routingKey: ctx.routingKey });
  }
}

@Publisher('${A}', { type: 'topic', mandatory: true, bindings: [{ destination: '${B}', routingKey: 'audit.#' }] })
class SecurityEvents {
  readonly login = route('audit.login', Login);
  readonly billing = route('billing.charged', Login);
}

/**
 * Exchange-to-exchange bindings declared from `WarrenOptions.topology` and `@Publisher({ bindings })`,
 * on each broker: a message published to exchange A reaches a consumer bound to exchange B only.
 */
export function exchangeBindingSpecs(ctx: ConformanceContext): void {
  describe('exchange-to-exchange bindings (Warren on this broker)', () => {
    const apps: Warren[] = [];
    let env: Record<string, string>;
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

    async function start(options: Partial<WarrenOptions>): Promise<Warren> {
      const transport = await ctx.newTransport();
      const app = await Warren.start({ transport, env, logger, telemetry: false, ...options });
      apps.push(app);
      for (const plan of app.consumers) ctx.track(plan.topology);
      return app;
    }

    beforeEach(() => {
      env = { A: ctx.name('e2e-a'), B: ctx.name('e2e-b'), Q: ctx.name('e2e-q') };
      ctx.track({ exchanges: [{ name: env.A!, type: 'topic' }, { name: env.B!, type: 'topic' }] });
      received.length = 0;
    });

    afterEach(async () => {
      await Promise.allSettled(apps.splice(0).map((app) => Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 5000))])));
    });

    it('routes a message published to exchange A to a consumer bound to exchange B, through a binding in WarrenOptions.topology', async () => {
      const app = await start({
        handlers: [AuditLog],
        topology: { exchanges: [{ name: '${A}', type: 'topic' }], bindings: [{ source: '${A}', destination: '${B}', routingKey: 'audit.#' }] },
      });
      expect(app.topology.bindings).to.deep.equal([{ source: env.A, destination: env.B, routingKey: 'audit.#', declaredBy: 'topology', declare: true }]);
      await app.publish(env.A!, 'audit.login', { user: 'ada' }, { mandatory: true });
      await eventually(async () => expect(received).to.deep.equal([{ user: 'ada', exchange: env.A, routingKey: 'audit.login' }]), 5000);
      const unrouted = await rejectionOf(app.publish(env.A!, 'billing.charged', { user: 'bob' }, { mandatory: true }));
      expect(unrouted, 'the binding key filters what crosses').to.be.instanceOf(UnroutableError);
    });

    it('declares the bindings of a @Publisher from its exchange', async () => {
      const app = await start({ handlers: [AuditLog], publishers: [SecurityEvents] });
      const events = app.get(SecurityEvents);
      await events.login({ user: 'grace' });
      await eventually(async () => expect(received.map((r) => [r.user, r.exchange])).to.deep.equal([['grace', env.A]]), 5000);
      expect(await rejectionOf(events.billing({ user: 'eve' }))).to.be.instanceOf(UnroutableError);
    });

    it('declares the bindings of a publisher bound after start, before its first message', async () => {
      const app = await start({ handlers: [AuditLog] });
      await app.get(SecurityEvents).login({ user: 'linus' });
      await eventually(async () => expect(received.map((r) => r.user)).to.deep.equal(['linus']), 5000);
    });

    it('refuses to start when an end of a binding does not exist, naming it', async () => {
      const error = await rejectionOf(start({ topology: { exchanges: [{ name: '${B}', type: 'topic' }], bindings: [{ source: '${A}', destination: '${B}', routingKey: 'x' }] } }));
      expect(error).to.be.instanceOf(TopologyError);
      expect(error.message).to.contain('NOT_FOUND').and.contain(env.A);
    });

    it('with declare: false, checks that both ends exist instead of binding', async () => {
      const error = await rejectionOf(start({ declare: false, topology: { bindings: [{ source: '${A}', destination: '${B}', routingKey: 'x' }] } }));
      expect(error).to.be.instanceOf(TopologyError);
      expect(error.message).to.contain(`exchange "${env.A}" (needed by topology (binding ${env.A} → ${env.B}))`).and.contain(`exchange "${env.B}"`);
    });
  });
}
