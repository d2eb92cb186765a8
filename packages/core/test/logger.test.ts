import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { container } from 'tsyringe';
import { bindLogger, Consumer, defaultLogger, jsonLogger, MemoryTransport, MessageContext, prettyLogger, Publisher, route, Warren, type LogFields, type Logger } from '../src';
import { until } from './support/until';

class Note {
  @IsString() text!: string;
}

class Notes {
  @Consumer('logger-test', 'note', { queue: 'logger-test.notes' })
  async handle(note: Note, ctx: MessageContext) {
    if (note.text === 'fail') throw new Error('no');
    ctx.logger.info('note taken', { text: note.text });
  }
}

@Publisher('logger-test.late')
class LateEvents {
  readonly noted = route('noted', Note);
}

function recordingLogger(): Logger & { entries: Array<{ level: string; message: string; fields?: LogFields }> } {
  const entries: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) => { entries.push({ level, message, fields }); };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('Logging', () => {
  it('prints one readable line per entry in the pretty format, with fields as key=value and passwords redacted', () => {
    const lines: string[] = [];
    const logger = prettyLogger({ name: 'billing', write: (line) => lines.push(line) });
    logger.info('warren started', { transport: 'rabbitmq amqp://app:secret@mq:5672', consumers: ['A.b ← q'] });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^\d\d:\d\d:\d\d\.\d{3} INFO  billing warren started transport="rabbitmq amqp:\/\/\*\*\*@mq:5672" consumers=\["A.b ← q"\]$/);
  });

  it('picks pretty on a terminal and JSON otherwise; WARREN_LOG_FORMAT decides when set', () => {
    const formatOf = (env: Record<string, string | undefined>, tty: boolean) => {
      const lines: string[] = [];
      defaultLogger({ name: 't', env, tty, write: (line) => lines.push(line) }).info('hello');
      return lines[0]?.startsWith('{') ? 'json' : 'pretty';
    };
    expect(formatOf({}, true)).to.equal('pretty');
    expect(formatOf({}, false)).to.equal('json');
    expect(formatOf({ WARREN_LOG_FORMAT: 'json' }, true)).to.equal('json');
    expect(formatOf({ WARREN_LOG_FORMAT: 'pretty' }, false)).to.equal('pretty');
  });

  it('binds fields to every entry of a logger', () => {
    const lines: string[] = [];
    const logger = bindLogger(jsonLogger({ write: (line) => lines.push(line) }), { consumer: 'A.b' });
    logger.warn('careful', { messageId: 'm1' });
    expect(JSON.parse(lines[0]!)).to.include({ level: 'warn', msg: 'careful', consumer: 'A.b', messageId: 'm1' });
  });

  it('gives handlers ctx.logger bound to the consumer and message id, and logs each outcome at debug', async () => {
    const logger = recordingLogger();
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Notes], logger, container: container.createChildContainer(), telemetry: false });
    try {
      await app.publish('logger-test', 'note', { text: 'hi' }, { messageId: 'm-1' });
      await app.publish('logger-test', 'note', { text: 42 }, { messageId: 'm-2' });
      await until(() => logger.entries.filter((e) => e.level === 'debug' && e.message.startsWith('message ')).length === 2);
      expect(logger.entries.find((e) => e.message === 'note taken')?.fields).to.deep.equal({ consumer: 'Notes.handle', messageId: 'm-1', text: 'hi' });
      const outcomes = logger.entries.filter((e) => e.level === 'debug' && e.message.startsWith('message '));
      expect(outcomes.map((e) => [e.message, e.fields?.messageId, e.fields?.consumer])).to.deep.equal([
        ['message handled', 'm-1', 'Notes.handle'],
        ['message dead-lettered', 'm-2', 'Notes.handle'],
      ]);
      expect(outcomes[1]?.fields?.code).to.equal('VALIDATION_FAILED');
    } finally {
      await app.close();
    }
  });

  it('names a publisher bound after start in the log', async () => {
    const logger = recordingLogger();
    const app = await Warren.start({ transport: new MemoryTransport(), logger, container: container.createChildContainer(), telemetry: false });
    try {
      app.get(LateEvents);
      expect(logger.entries.find((e) => e.message === 'publisher bound')?.fields).to.deep.equal({ publisher: 'LateEvents', exchange: 'logger-test.late' });
    } finally {
      await app.close();
    }
  });
});
