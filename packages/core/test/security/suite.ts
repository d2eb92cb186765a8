import { headerAndEncodingSpecs } from './headers';
import { type BrokerAccess, SecurityContext } from './harness';
import { optionSpecs } from './options';
import { requestSpecs } from './requests';

/**
 * What a hostile publisher must not achieve, written once and run on both brokers
 * (`memory.test.ts`, `rabbitmq.test.ts`): steering replies, reaching a prototype through headers,
 * smuggling encodings, or out-of-range options failing late. docs/security.md is the prose.
 */
export function defineSecuritySuite(broker: BrokerAccess): void {
  describe(`Security on ${broker.name}`, function () {
    this.timeout(20_000);
    const ctx = new SecurityContext(broker);
    beforeEach(() => ctx.reset());
    after(() => ctx.close());

    requestSpecs(ctx);
    headerAndEncodingSpecs(ctx);
    optionSpecs(ctx);
  });
}
