import { expect } from 'chai';
import { injectable } from 'tsyringe';
import { ConfigurationError, Consumer } from '../../src';
import { Calls, Seen } from './handlers';
import { rejectionOf, type SecurityContext } from './harness';

@injectable()
class HugePrefetch {
  @Consumer('${EX}', 'huge', { queue: '${Q}.huge', message: Object, prefetch: 70_000, concurrency: 10 })
  async huge() {}
}

export function optionSpecs(ctx: SecurityContext): void {
  describe('options are range-checked at start', () => {
    beforeEach(() => ctx.scope.registerInstance(Seen, new Seen()));
    afterEach(() => ctx.cleanup([`${ctx.env.Q}.huge`, `${ctx.env.Q}.huge.dlq`]));

    it('refuses a prefetch above 65,535 at once, naming the consumer', async () => {
      const started = performance.now();
      const error = await rejectionOf(ctx.start({ handlers: [HugePrefetch] }));
      const ms = performance.now() - started;
      console.log(`      refused in ${ms.toFixed(0)} ms`);
      expect(error).to.be.instanceOf(ConfigurationError);
      expect((error as Error).message).to.contain('HugePrefetch.huge').and.to.contain('65535');
      expect(ms).to.be.below(3000);
    });

    it('refuses out-of-range app options, listing every problem', async () => {
      const error = await rejectionOf(ctx.start({ prefetch: 70_000, concurrency: 0, publishTimeoutMs: Number.NaN, requestTimeoutMs: Infinity, shutdownTimeoutMs: -1, health: { port: 70_000 } }));
      expect(error).to.be.instanceOf(ConfigurationError);
      for (const name of ['prefetch', 'concurrency', 'publishTimeoutMs', 'requestTimeoutMs', 'shutdownTimeoutMs', 'health.port']) expect((error as Error).message).to.contain(name);
    });

    it('refuses a timeout or expiration out of range at the call, before sending', async () => {
      const app = await ctx.start({ publishers: [Calls] });
      for (const options of [{ timeoutMs: 0 }, { timeoutMs: 1.5 }, { timeoutMs: 2 ** 31 }, { expiration: -1 }]) {
        expect(await rejectionOf(app.get(Calls).rpc.request({}, options)), JSON.stringify(options)).to.be.instanceOf(ConfigurationError);
        expect(() => app.get(Calls).compressed({}, options), JSON.stringify(options)).to.throw(ConfigurationError);
      }
    });
  });
}
