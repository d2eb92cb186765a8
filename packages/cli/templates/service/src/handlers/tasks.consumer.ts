import { injectable, singleton } from 'tsyringe';
import { Consumer, MessageContext } from '@warren/core';
import { TaskSubmitted } from '../messages/task-submitted';

/** Where accepted tasks go. Stands in for a database; tests replace it with a fresh instance. */
@singleton()
export class TaskStore {
  readonly tasks: TaskSubmitted[] = [];

  add(task: TaskSubmitted): void {
    this.tasks.push(task);
  }
}

/** Takes submitted tasks off the queue `{{serviceName}}.task-submitted`. */
@injectable()
export class TaskConsumer {
  constructor(private readonly store: TaskStore) {}

  // Runs only for valid messages; invalid ones go to {{serviceName}}.task-submitted.dlq with the reason.
  // A thrown error is retried per the retry policy (WARREN_RETRY_ATTEMPTS), then dead-lettered.
  @Consumer('{{serviceName}}', 'task.submitted', { queue: '{{serviceName}}.task-submitted' })
  async onSubmitted(task: TaskSubmitted, ctx: MessageContext): Promise<void> {
    this.store.add(task);
    console.log(`task ${task.taskId} "${task.title}" accepted (message ${ctx.messageId}, attempt ${ctx.attempt})`);
  }
}
