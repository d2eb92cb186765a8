import { randomBytes } from 'node:crypto';

/** Everything a bench run is sized by; `--smoke` shrinks it to a CI-sized run (< 60 s). */
export interface BenchConfig {
  readonly mode: 'full' | 'smoke';
  readonly url: string;
  /** Prefix of every queue and exchange this run creates, so runs never collide and cleanup is exact. */
  readonly runId: string;
  /** Rounds per side; Warren and raw alternate within each round. */
  readonly rounds: number;
  /** Pause between measured runs, so the broker has written out the previous one. */
  readonly settleMs: number;
  readonly consume: { readonly messages: number; readonly prefetches: readonly number[]; readonly warmupMessages: number };
  readonly publish: { readonly messages: number; readonly window: number };
  readonly latency: { readonly rate: number; readonly seconds: number; readonly warmupSeconds: number; readonly prefetch: number };
  readonly rpc: { readonly sequential: number; readonly parallel: number; readonly inFlight: number; readonly warmup: number };
  readonly memory: { readonly messages: number; readonly window: number; readonly prefetch: number };
  /** Milliseconds each micro-benchmark measures for (after the same again of warm-up). */
  readonly microMs: number;
  /** Scenario names to run (all when empty): consume, publish, latency, rpc, memory, pipeline. */
  readonly only: ReadonlySet<string>;
}

export const SCENARIOS = ['consume', 'publish', 'latency', 'rpc', 'memory', 'pipeline'] as const;

/** Reads `--smoke`, `--rounds=N` and `--only=a,b` from argv; AMQP_URL picks the broker. */
export function configFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const smoke = argv.includes('--smoke');
  const only = new Set((flag('only') ?? '').split(',').filter(Boolean));
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`Unknown scenario "${name}"; pick from ${SCENARIOS.join(', ')}.`);
  }
  const base = {
    url: env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    runId: `warren-bench.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`,
    only,
  };
  const rounds = Number(flag('rounds') ?? (smoke ? 1 : 3));
  if (smoke) {
    return {
      ...base, mode: 'smoke', rounds, settleMs: 50,
      consume: { messages: 300, prefetches: [50, 500], warmupMessages: 0 },
      publish: { messages: 300, window: 1000 },
      latency: { rate: 2000, seconds: 0.5, warmupSeconds: 0.1, prefetch: 50 },
      rpc: { sequential: 100, parallel: 300, inFlight: 100, warmup: 20 },
      memory: { messages: 2000, window: 1000, prefetch: 100 },
      microMs: 50,
    };
  }
  return {
    ...base, mode: 'full', rounds, settleMs: 1000,
    consume: { messages: 20_000, prefetches: [50, 500], warmupMessages: 5000 },
    publish: { messages: 20_000, window: 1000 },
    latency: { rate: 2000, seconds: 6, warmupSeconds: 1, prefetch: 50 },
    rpc: { sequential: 2000, parallel: 10_000, inFlight: 100, warmup: 200 },
    memory: { messages: 100_000, window: 1000, prefetch: 100 },
    microMs: 700,
  };
}
