import 'reflect-metadata';
import { IsString, Length } from 'class-validator';
import { container, injectable } from 'tsyringe';
import { Consumer, Warren, type Logger, type WarrenOptions } from '../../src';
import { uniqueName } from '../support/broker';
import { Ledger } from './ledger';

/** The payload of every ledger message: its unique id. */
export class Tick {
  @IsString() @Length(1, 80) id!: string;
}

/** Hands each message to the scenario's ledger; what is measured is delivery, not work. */
@injectable()
export class TickHandlers {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('${EX}', 'tick', { queue: '${Q}.ticks', prefetch: 100, concurrency: 20 })
  async tick(tick: Tick): Promise<void> {
    this.ledger.recordHandled(tick.id);
  }
}

/** A logger that keeps every line (and when it was said), to assert on what a service said and to show it when a test fails. */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  /** `Date.now()` of each line in {@link lines}. */
  readonly times: number[] = [];
  debug(message: string, fields?: object): void { this.record(`debug ${message} ${JSON.stringify(fields ?? {})}`); }
  info(message: string, fields?: object): void { this.record(`info ${message} ${JSON.stringify(fields ?? {})}`); }
  warn(message: string, fields?: object): void { this.record(`warn ${message} ${JSON.stringify(fields ?? {})}`); }
  error(message: string, fields?: object): void { this.record(`error ${message} ${JSON.stringify(fields ?? {})}`); }
  said(text: string): boolean { return this.lines.some((l) => l.includes(text)); }
  /** When the first line containing `text` at or after line `from` was said. */
  firstSaid(text: string, from = 0): number | undefined {
    const index = this.lines.findIndex((l, i) => i >= from && l.includes(text));
    return index === -1 ? undefined : this.times[index];
  }
  private record(line: string): void {
    this.lines.push(line);
    this.times.push(Date.now());
  }
}

/** Names for one scenario: its exchange, its queues' prefix, and the env that resolves `${EX}` / `${Q}`. */
export function scenarioNames(): { exchange: string; queue: string; env: Record<string, string> } {
  const exchange = uniqueName('fault-ex');
  const prefix = uniqueName('fault-q');
  return { exchange, queue: `${prefix}.ticks`, env: { EX: exchange, Q: prefix } };
}

/** Starts a Warren service whose handlers write into `ledger`. */
export function startService(url: string, ledger: Ledger, env: Record<string, string>, options: Partial<WarrenOptions> = {}): Promise<Warren> {
  const scope = container.createChildContainer();
  scope.registerInstance(Ledger, ledger);
  return Warren.start({ url, handlers: [TickHandlers], container: scope, env, logger: new RecordingLogger(), telemetry: false, ...options });
}
