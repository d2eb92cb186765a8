import { Publisher, route } from '@warren/core';
import { {{className}} } from '../messages/{{fileName}}';

/**
 * Sends {{className}} messages to the direct exchange `{{exchange}}`. Inject it into a handler, or
 * take it from the app: `await app.get({{className}}Publisher).send(message)`.
 */
@Publisher('{{exchange}}')
export class {{className}}Publisher {
  readonly send = route('{{routingKey}}', {{className}});
}
