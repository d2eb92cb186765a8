import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { container, injectable } from 'tsyringe';
import { ConfigurationError, Consumer, MemoryTransport, Publisher, route, silentLogger, Warren } from '../src';
import { startError } from './support/start-error';

class Undecorated {
  text!: string;
}

class Note {
  @IsString() text!: string;
}

class UndecoratedConsumer {
  @Consumer('start-errors', 'undecorated', { queue: 'start-errors.undecorated' })
  async handle(_payload: Undecorated) {}
}

class UnvalidatedConsumer {
  static received: unknown[] = [];
  @Consumer('start-errors', 'unvalidated', { queue: 'start-errors.unvalidated', message: Object })
  async handle(payload: unknown) { UnvalidatedConsumer.received.push(payload); }
}

/** Something a handler needs; not decorated, so tsyringe cannot build what injects it. */
class Mailer {
  constructor(readonly host: string) {}
}

class NotInjectable {
  constructor(readonly mailer: Mailer) {}
  @Consumer('start-errors', 'not-injectable', { queue: 'start-errors.not-injectable' })
  async handle(_note: Note) {}
}

@Publisher('start-errors.events', { type: 'fanout' })
class NoteEvents {
  readonly noted = route('note.noted', Note);
}

@Publisher('start-errors.typo', { type: 'fanuot' as 'fanout' })
class TypoEvents {
  readonly noted = route('note.noted', Note);
}

class TypoConsumer {
  @Consumer('start-errors.typo-consumer', 'k', { queue: 'start-errors.typo', exchangeType: 'topik' as 'topic' })
  async handle(_note: Note) {}
}

@injectable()
class Notes {
  static seen: string[] = [];
  @Consumer('start-errors.events', '', { queue: 'start-errors.notes', exchangeType: 'fanout' })
  async handle(note: Note) { Notes.seen.push(note.text); }
}

describe('Errors a newcomer can act on, at start', () => {
  it('refuses a payload class without class-validator decorators, naming the consumer and the fixes', async () => {
    const error = await startError({ handlers: [UndecoratedConsumer] });
    expect(error).to.be.instanceOf(ConfigurationError);
    expect(error.message).to.contain('UndecoratedConsumer.handle');
    expect(error.message).to.contain('Undecorated has no class-validator decorators');
    expect(error.message).to.contain('{ message: Object }');
  });

  it('accepts an unvalidated payload when the consumer says { message: Object }', async () => {
    UnvalidatedConsumer.received = [];
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [UnvalidatedConsumer], logger: silentLogger, container: container.createChildContainer() });
    try {
      await app.publish('start-errors', 'unvalidated', { anything: 1 });
      for (let i = 0; i < 200 && UnvalidatedConsumer.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(UnvalidatedConsumer.received).to.deep.equal([{ anything: 1 }]);
    } finally {
      await app.close();
    }
  });

  it('names a handler tsyringe cannot construct, and the likely fixes', async () => {
    const error = await startError({ handlers: [NotInjectable] });
    expect(error).to.be.instanceOf(ConfigurationError);
    expect(error.message).to.contain('tsyringe could not construct NotInjectable');
    expect(error.message).to.contain('@injectable()');
    expect(error.message).to.contain('emitDecoratorMetadata');
    expect(error.message).to.contain('providers');
  });

  it('binds a @Publisher class listed in handlers, declaring its exchange at start', async () => {
    Notes.seen = [];
    const transport = new MemoryTransport();
    const app = await Warren.start({ transport, handlers: [Notes, NoteEvents], logger: silentLogger, container: container.createChildContainer() });
    try {
      expect(app.publishers.map((p) => p.publisherClass)).to.include(NoteEvents);
      await app.get(NoteEvents).noted({ text: 'hello' });
      for (let i = 0; i < 200 && Notes.seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(Notes.seen).to.deep.equal(['hello']);
    } finally {
      await app.close();
    }
  });

  it('still refuses a handler class with neither @Consumer methods nor @Publisher, saying what to add', async () => {
    const error = await startError({ handlers: [Mailer] });
    expect(error).to.be.instanceOf(ConfigurationError);
    expect(error.message).to.contain('Mailer was passed as a handler but has no @Consumer methods');
    expect(error.message).to.contain('@Consumer(exchange, routingKey)');
  });

  it('refuses an unknown exchange type of a publisher or a consumer before connecting, as a ConfigurationError', async () => {
    let connected = false;
    const transport = new MemoryTransport();
    const connect = transport.connect.bind(transport);
    Object.assign(transport, { connect: () => { connected = true; return connect(); } });
    const publisherError = await startError({ transport, publishers: [TypoEvents] });
    expect(publisherError).to.be.instanceOf(ConfigurationError);
    expect(publisherError.message).to.contain('"fanuot"');
    const consumerError = await startError({ transport, handlers: [TypoConsumer] });
    expect(consumerError).to.be.instanceOf(ConfigurationError);
    expect(consumerError.message).to.contain('TypoConsumer.handle');
    expect(consumerError.message).to.contain('"topik"');
    expect(connected, 'checked before connecting, so RabbitMQ and the memory broker answer alike').to.equal(false);
  });
});
