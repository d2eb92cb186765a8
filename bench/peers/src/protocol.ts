import type { Sample } from '../../dist/src/results';

/**
 * What the parent (run.ts) and a side's child process (child.ts) say to each other: the parent
 * forks one child per measured run with a {@link Job} in argv, the child sends back one
 * {@link Report} over IPC and exits.
 */

/** Every side of the comparison, by the name `--sides=` takes. */
export const SIDES = ['rabbitmq-client', 'amqplib', 'golevelup', 'golevelup-cv', 'rascal', 'warren', 'warren-unvalidated'] as const;
export type SideName = typeof SIDES[number];

/** The names the tables show. */
export const SIDE_LABELS: Record<SideName, string> = {
  'rabbitmq-client': 'rabbitmq-client 5.0.8 (raw)',
  amqplib: 'amqplib 2.3.1',
  golevelup: '@golevelup/nestjs-rabbitmq 9.0.2',
  'golevelup-cv': 'golevelup + class-validator (ValidationPipe)',
  rascal: 'rascal 21.0.1',
  warren: 'Warren, validated',
  'warren-unvalidated': 'Warren, unvalidated',
};

/** The side every ratio is taken against. */
export const REFERENCE: SideName = 'warren';

export type ScenarioName = 'consume' | 'publish' | 'rpc';
export const SCENARIOS: readonly ScenarioName[] = ['consume', 'publish', 'rpc'];

interface JobBase {
  side: SideName;
  url: string;
  /** Where broker CPU is read from; undefined when the broker is not on this machine. */
  brokerPid?: number;
}

/** Drain `warmup + messages` pre-filled messages; the window covers the last `messages`. */
export interface ConsumeJob extends JobBase {
  scenario: 'consume';
  queue: string;
  /** The queue's declaration, for the sides that declare what they consume (same arguments for all). */
  queueArguments: Record<string, unknown>;
  prefetch: number;
  warmup: number;
  messages: number;
}

/** Publish `warmup`, then `messages` timed, with `window` unconfirmed at once, to a direct exchange bound to one queue. */
export interface PublishJob extends JobBase {
  scenario: 'publish';
  exchange: string;
  routingKey: string;
  warmup: number;
  messages: number;
  window: number;
}

/** Serve requests on `queue` and send them, in one process: `sequential` one at a time, then `parallel` with `inFlight` at once. */
export interface RpcJob extends JobBase {
  scenario: 'rpc';
  queue: string;
  queueArguments: Record<string, unknown>;
  warmup: number;
  sequential: number;
  parallel: number;
  inFlight: number;
}

export type Job = ConsumeJob | PublishJob | RpcJob;

/** A child's answer: one sample per case it measured (rpc measures two), or why it failed. */
export type Report = { ok: true; samples: Record<string, Sample> } | { ok: false; error: string };
