import { injectable } from 'tsyringe';
import { Consumer, MessageContext } from '@warren/core';
import { {{className}} } from '../messages/{{fileName}}';

/** Handles {{className}} messages from the queue `{{queue}}`. */
@injectable()
export class {{className}}Consumer {
  // Runs only for valid messages; invalid ones go to {{queue}}.dlq with the reason in their headers.
  @Consumer('{{exchange}}', '{{routingKey}}', { queue: '{{queue}}' })
  async handle(message: {{className}}, ctx: MessageContext): Promise<void> {
    console.log(`{{routingKey}} ${message.id} (message ${ctx.messageId}, attempt ${ctx.attempt})`);
  }
}
