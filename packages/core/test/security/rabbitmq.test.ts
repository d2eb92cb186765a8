import 'reflect-metadata';
import { AmqpTransport } from '../../src/transports/amqp/transport';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { defineSecuritySuite } from './suite';

describeWithBroker('Security', () => {
  defineSecuritySuite({
    name: 'RabbitMQ',
    appTransport: () => new AmqpTransport({ url: AMQP_URL, connectionName: 'warren-security' }),
    admin: async () => {
      const admin = new AmqpTransport({ url: AMQP_URL, connectionName: 'warren-security-admin' });
      await admin.connect();
      return admin;
    },
  });
});
