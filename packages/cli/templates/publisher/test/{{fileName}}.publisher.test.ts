import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { PayloadValidationError } from '@warren/core';
import { TestApp } from '@warren/testing';
import { {{className}}Publisher } from '../src/handlers/{{fileName}}.publisher';

describe('{{className}}Publisher', () => {
  // Stands in for the consuming service's queue: a direct exchange refuses messages nobody receives.
  const listener = '{{queue}}.test-listener';
  let t: TestApp;

  beforeEach(async () => {
    t = await TestApp.create({ publishers: [{{className}}Publisher] });
    await t.app.transport.declare({ queues: [{ name: listener }], bindings: [{ exchange: '{{exchange}}', queue: listener, routingKey: '{{routingKey}}' }] });
  });
  afterEach(() => t.close());

  it('sends a valid {{className}} as JSON to {{exchange}} / {{routingKey}}', async () => {
    const id = randomUUID();
    await t.get({{className}}Publisher).send({ id, description: 'a valid message' });
    const [received] = await t.messages(listener);
    expect(received?.payload).to.deep.equal({ id, description: 'a valid message' });
  });

  it('refuses an invalid {{className}} before anything is sent', async () => {
    let error: unknown;
    try {
      await t.get({{className}}Publisher).send({ id: 'not-a-uuid', description: '' });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(PayloadValidationError);
    expect(await t.messages(listener)).to.be.empty;
  });
});
