import { median } from './stats';

/**
 * Micro-benchmark timing: warm up for `ms`, then measure five slices of `ms / 5` and report the
 * median µs per call. Calls run in batches of 50 between clock reads, so reading the clock costs
 * little next to calls of a microsecond or more.
 */
export function microSync(fn: () => unknown, ms: number): number {
  const slice = (length: number) => {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < length) {
      for (let i = 0; i < 50; i++) fn();
      calls += 50;
      now = performance.now();
    }
    return ((now - start) * 1000) / calls;
  };
  slice(ms);
  return median(Array.from({ length: 5 }, () => slice(ms / 5)));
}

/** {@link microSync} for async calls, awaited one after another (as one consumer slot would). */
export async function microAsync(fn: () => Promise<unknown>, ms: number): Promise<number> {
  const slice = async (length: number) => {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < length) {
      for (let i = 0; i < 50; i++) await fn();
      calls += 50;
      now = performance.now();
    }
    return ((now - start) * 1000) / calls;
  };
  await slice(ms);
  const slices: number[] = [];
  for (let i = 0; i < 5; i++) slices.push(await slice(ms / 5));
  return median(slices);
}
