import { AmqpTransport } from '../../src/transports/amqp/transport';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { defineConformanceSuite } from './suite';

describeWithBroker('AmqpTransport', () => {
  defineConformanceSuite('AmqpTransport', async () => new AmqpTransport({ url: AMQP_URL, connectionName: 'warren-conformance' }));
});
