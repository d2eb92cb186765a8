import type { Transport } from '../../src/transport';
import { afterCleanup, afterEachCleanup } from '../support/cleanup';
import { acknowledgementSpecs } from './acknowledgement';
import { ConformanceContext } from './context';
import { deadLetteringSpecs } from './dead-lettering';
import { deliveryPolicySpecs } from './delivery-policy';
import { dispatchSpecs } from './dispatch';
import { exchangeBindingSpecs } from './exchange-bindings';
import { lifecycleSpecs } from './lifecycle';
import { publishingSpecs } from './publishing';
import { queueOperationSpecs } from './queue-operations';
import { queueTypeSpecs } from './queue-types';
import { requestReplySpecs } from './request-reply';
import { routingSpecs } from './routing';
import { schedulingSpecs } from './scheduling';
import { topologySpecs } from './topology';
import { streamSpecs } from './streams';
import { consumerSelectionSpecs } from './consumer-selection';

/**
 * The behaviour both brokers share, written once: `memory.test.ts` runs it on `MemoryTransport`,
 * `rabbitmq.test.ts` on `AmqpTransport` against a real RabbitMQ. Whatever the in-memory broker
 * claims to do like RabbitMQ is a test here; where it deliberately differs, docs/in-memory-broker.md
 * says so.
 *
 * `factory` makes a new, unconnected transport; the suite connects and closes it. Every test uses
 * unique names and deletes what it declared, so the suite can share a broker with other tests.
 */
export function defineConformanceSuite(name: string, factory: () => Promise<Transport>): void {
  describe(`${name} conformance`, function () {
    this.timeout(15_000);
    const ctx = new ConformanceContext(factory);
    before(() => ctx.open());
    afterEachCleanup('what the test declared and subscribed', () => ctx.cleanup(), 20_000);
    afterCleanup('close the transport', () => ctx.close());

    routingSpecs(ctx);
    acknowledgementSpecs(ctx);
    deadLetteringSpecs(ctx);
    publishingSpecs(ctx);
    queueOperationSpecs(ctx);
    topologySpecs(ctx);
    requestReplySpecs(ctx);
    lifecycleSpecs(ctx);
    queueTypeSpecs(ctx);
    deliveryPolicySpecs(ctx);
    dispatchSpecs(ctx);
    exchangeBindingSpecs(ctx);
    schedulingSpecs(ctx);
    streamSpecs(ctx);
    consumerSelectionSpecs(ctx);
  });
}
