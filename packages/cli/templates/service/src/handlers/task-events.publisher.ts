import { Publisher, route } from '@warren/core';
import { TaskSubmitted } from '../messages/task-submitted';

/**
 * What this service publishes, on the durable direct exchange `{{serviceName}}`. Inject the class into
 * a handler, or take it from the app (`app.get(TaskEvents)`), to get routes that send.
 */
@Publisher('{{serviceName}}')
export class TaskEvents {
  readonly submitted = route('task.submitted', TaskSubmitted);
}
