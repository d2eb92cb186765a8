import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { PayloadValidationError } from '@warren/core';
import { TestApp } from '@warren/testing';
import { TaskEvents } from '../src/handlers/task-events.publisher';
import { TaskConsumer, TaskStore } from '../src/handlers/tasks.consumer';

// TestApp runs the handlers through Warren's real pipeline (decode, validate, DI, retries, dead
// letters) on the in-memory broker: no RabbitMQ needed.
describe('{{serviceName}}: submitted tasks', () => {
  let store: TaskStore;
  let t: TestApp;

  beforeEach(async () => {
    store = new TaskStore();
    t = await TestApp.create({ handlers: [TaskConsumer], providers: [{ provide: TaskStore, useValue: store }] });
  });
  afterEach(() => t.close());

  it('stores a valid task', async () => {
    const taskId = randomUUID();
    const outcome = await t.publish('{{serviceName}}', 'task.submitted', { taskId, title: 'Write the docs', priority: 2 });
    expect(outcome.status).to.equal('handled');
    expect(store.tasks.map((task) => task.taskId)).to.deep.equal([taskId]);
  });

  it('dead-letters an invalid task with the reason in its headers, without running the handler', async () => {
    const outcome = await t.publish('{{serviceName}}', 'task.submitted', { taskId: randomUUID(), title: 'Too urgent', priority: 9 });
    expect(outcome.status).to.equal('dead-lettered');
    expect(outcome.error?.code).to.equal('VALIDATION_FAILED');
    expect(store.tasks).to.be.empty;
    const [dead] = await t.deadLetters('{{serviceName}}.task-submitted');
    expect(String(dead?.headers['x-warren-error-details'])).to.contain('priority');
  });

  it('sends a task through TaskEvents.submitted to the consumer', async () => {
    await t.get(TaskEvents).submitted({ taskId: randomUUID(), title: 'Ship it', priority: 1 });
    await t.idle();
    expect(store.tasks.map((task) => task.title)).to.deep.equal(['Ship it']);
  });

  it('refuses to send an invalid task: nothing reaches the broker', async () => {
    let error: unknown;
    try {
      await t.get(TaskEvents).submitted({ taskId: 'not-a-uuid', title: '', priority: 1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(PayloadValidationError);
    expect(t.published({ routingKey: 'task.submitted' })).to.be.empty;
  });
});
