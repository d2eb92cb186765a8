import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { TestApp } from '@warren/testing';
import { {{className}}Consumer } from '../src/handlers/{{fileName}}.consumer';

describe('{{className}}Consumer', () => {
  let t: TestApp;

  beforeEach(async () => {
    t = await TestApp.create({ handlers: [{{className}}Consumer] });
  });
  afterEach(() => t.close());

  it('handles a valid {{className}}', async () => {
    const outcome = await t.publish('{{exchange}}', '{{routingKey}}', { id: randomUUID(), description: 'a valid message' });
    expect(outcome.status).to.equal('handled');
    expect(outcome.consumer).to.equal('{{className}}Consumer.handle');
  });

  it('dead-letters an invalid {{className}} with the reason in its headers', async () => {
    const outcome = await t.publish('{{exchange}}', '{{routingKey}}', { id: 'not-a-uuid', description: '' });
    expect(outcome.status).to.equal('dead-lettered');
    expect(outcome.error?.code).to.equal('VALIDATION_FAILED');
    const [dead] = await t.deadLetters('{{queue}}');
    expect(String(dead?.headers['x-warren-error-details'])).to.contain('id');
  });
});
