import 'reflect-metadata';
import { expect } from 'chai';
import * as path from 'node:path';
import { IsEmail, IsString } from 'class-validator';
import { container, injectable, Lifecycle, scoped } from 'tsyringe';
import { ConfigurationError, Consumer, MemoryTransport, MessageContext, silentLogger, Warren, type SettledEvent } from '../src';
import { GreetingHandlers, Greetings } from './fixtures/scan/greetings.handlers';
import { until } from './support/until';

class Note {
  @IsString() text!: string;
}

/** Lives one message when the consumer is message-scoped. */
@scoped(Lifecycle.ContainerScoped)
class UnitOfWork {
  static created = 0;
  readonly id = ++UnitOfWork.created;
}

@injectable()
class Notes {
  static seen: Array<{ unit: number; messageId?: string; sameUnit: boolean }> = [];
  constructor(private readonly unit: UnitOfWork, private readonly again: UnitOfWork, private readonly ctx: MessageContext) {}

  @Consumer('notes', 'note', { queue: 'notes.scoped', scope: 'message' })
  async onNote(_note: Note, ctx: MessageContext) {
    Notes.seen.push({ unit: this.unit.id, messageId: this.ctx.messageId, sameUnit: this.unit === this.again && this.ctx === ctx });
  }
}

class Duplicate {
  @Consumer('notes', 'a', { queue: 'notes.same' })
  async a(_n: Note) {}

  @Consumer('notes', 'a', { queue: 'notes.same' })
  async b(_n: Note) {}
}

class Signup {
  @IsEmail() email!: string;
}

class Signups {
  static handled = 0;

  @Consumer('signups', 'signup', { queue: 'signups', retry: { attempts: 3, delay: 5 } })
  async onSignup(_s: Signup) {
    Signups.handled++;
  }
}

class Stuck {
  static started = 0;

  @Consumer('stuck', 'note', { queue: 'stuck' })
  async onNote(_n: Note) {
    Stuck.started++;
    await new Promise(() => undefined);
  }
}

describe('Warren.close', () => {
  it('resolves within shutdownTimeoutMs and a second while a handler never settles, and says so in the log', async () => {
    Stuck.started = 0;
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => { warnings.push(message); } };
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Stuck], logger, shutdownTimeoutMs: 300, container: container.createChildContainer() });
    await app.publish('stuck', 'note', { text: 'a' });
    await until(() => Stuck.started === 1);
    const started = Date.now();
    await app.close();
    const closeMs = Date.now() - started;
    console.log(`      close with a never-settling handler and shutdownTimeoutMs 300: ${closeMs} ms`);
    expect(closeMs).to.be.at.most((300 + 1_000) * 3);
    expect(app.health().status).to.equal('closed');
    expect(warnings.some((w) => w.includes('handlers still running at the shutdown timeout')), warnings.join('\n')).to.equal(true);
  });
});

describe('Warren.start', () => {
  it('resolves a message-scoped handler from a child container per message', async () => {
    Notes.seen = [];
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Notes], logger: silentLogger, container: container.createChildContainer() });
    try {
      await app.publish('notes', 'note', { text: 'a' }, { messageId: 'm1' });
      await app.publish('notes', 'note', { text: 'b' }, { messageId: 'm2' });
      await until(() => Notes.seen.length === 2);
      expect(Notes.seen.map((s) => s.messageId)).to.deep.equal(['m1', 'm2']);
      expect(Notes.seen.every((s) => s.sameUnit)).to.equal(true);
      expect(Notes.seen[0]!.unit).not.to.equal(Notes.seen[1]!.unit);
    } finally {
      await app.close();
    }
  });

  it('refuses two consumers of one queue that bind the same routing key, naming both', async () => {
    let error: unknown;
    try {
      await Warren.start({ transport: new MemoryTransport(), handlers: [Duplicate], logger: silentLogger });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigurationError);
    expect((error as Error).message).to.contain('Duplicate.a').and.to.contain('Duplicate.b');
  });

  it('refuses a class without @Consumer methods passed as a handler', async () => {
    let error: unknown;
    try {
      await Warren.start({ transport: new MemoryTransport(), handlers: [Note], logger: silentLogger });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.contain('Note was passed as a handler but has no @Consumer methods');
  });

  it('finds handlers and publishers by scanning compiled files', async () => {
    GreetingHandlers.received = [];
    const app = await Warren.start({
      transport: new MemoryTransport(), logger: silentLogger, container: container.createChildContainer(),
      scan: [path.relative(process.cwd(), path.join(__dirname, 'fixtures/scan')).split(path.sep).join('/') + '/**/*.handlers.js'],
    });
    try {
      expect(app.consumers.map((c) => c.id)).to.deep.equal(['GreetingHandlers.hello']);
      await app.get(Greetings).hello({ text: 'scanned' });
      await until(() => GreetingHandlers.received.length === 1);
      expect(GreetingHandlers.received).to.deep.equal(['scanned']);
    } finally {
      await app.close();
    }
  });

  it('dead-letters at once, without retries, a payload that makes a validator throw', async () => {
    const settled: SettledEvent[] = [];
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Signups], logger: silentLogger, container: container.createChildContainer(), onSettled: (e) => settled.push(e) });
    try {
      await app.publish('signups', 'signup', Buffer.from('{"email":"a\\ud800@example.com"}'), { contentType: 'application/json' });
      await until(() => settled.length === 1);
      expect(settled[0]!.outcome).to.equal('dead-lettered');
      expect(settled[0]!.error?.code).to.equal('VALIDATION_FAILED');
      expect(settled[0]!.attempt).to.equal(1);
      expect(Signups.handled).to.equal(0);
    } finally {
      await app.close();
    }
  });

  it('logs loudly that it runs on the embedded broker when no URL is configured', async () => {
    const lines: string[] = [];
    const app = await Warren.start({ handlers: [GreetingHandlers], env: {}, container: container.createChildContainer(), logger: { debug() {}, info() {}, warn: (m) => lines.push(m), error() {} } });
    await app.close();
    expect(app.transport.description).to.equal('memory');
    expect(lines.join('\n')).to.match(/NO BROKER CONFIGURED/);
  });
});
