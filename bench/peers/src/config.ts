import { randomBytes } from 'node:crypto';
import { SCENARIOS, SIDES, type ScenarioName, type SideName } from './protocol';

/** How a peers run is sized; `--smoke` is the CI-sized run (well under a minute). */
export interface PeersConfig {
  readonly mode: 'full' | 'smoke';
  readonly url: string;
  /** Prefix of every queue and exchange this run creates. */
  readonly runId: string;
  /** Rounds; within each, every side runs once, in turn (reversed on odd rounds). */
  readonly rounds: number;
  /** Pause between runs, so the broker has written out the previous one. */
  readonly settleMs: number;
  readonly consume: { readonly warmup: number; readonly messages: number; readonly prefetches: readonly number[] };
  readonly publish: { readonly warmup: number; readonly messages: number; readonly window: number };
  readonly rpc: { readonly warmup: number; readonly sequential: number; readonly parallel: number; readonly inFlight: number };
  readonly only: ReadonlySet<ScenarioName>;
  readonly sides: readonly SideName[];
}

/** Reads `--smoke`, `--rounds=N`, `--only=consume,publish,rpc` and `--sides=warren,golevelup,…`; AMQP_URL picks the broker. */
export function peersConfigFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): PeersConfig {
  const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const list = <T extends string>(name: string, allowed: readonly T[]): T[] => {
    const values = (flag(name) ?? '').split(',').filter(Boolean);
    for (const value of values) {
      if (!(allowed as readonly string[]).includes(value)) throw new Error(`Unknown value "${value}" for --${name}; pick from ${allowed.join(', ')}.`);
    }
    return values as T[];
  };
  const smoke = argv.includes('--smoke');
  const sides = list('sides', SIDES);
  const base = {
    url: env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    runId: `warren-peers.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`,
    rounds: Number(flag('rounds') ?? (smoke ? 1 : 5)),
    only: new Set(list('only', SCENARIOS)),
    sides: sides.length > 0 ? sides : [...SIDES],
  };
  if (smoke) {
    return {
      ...base, mode: 'smoke', settleMs: 20,
      consume: { warmup: 100, messages: 400, prefetches: [50] },
      publish: { warmup: 100, messages: 400, window: 1000 },
      rpc: { warmup: 20, sequential: 50, parallel: 200, inFlight: 100 },
    };
  }
  return {
    ...base, mode: 'full', settleMs: 500,
    consume: { warmup: 5000, messages: 20_000, prefetches: [50, 500] },
    publish: { warmup: 5000, messages: 20_000, window: 1000 },
    rpc: { warmup: 300, sequential: 2000, parallel: 10_000, inFlight: 100 },
  };
}
