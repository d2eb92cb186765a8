/**
 * Cleanup hooks that cannot hang a suite. Mocha skips every remaining test of a describe when one of
 * its hooks fails or times out, so a cleanup that waits forever (a subscription whose handler never
 * settles, a broker that stopped answering) would cost far more than its own test. These hooks bound
 * the cleanup with a deadline, log what failed or overran, and let the suite go on; the run's end
 * (root-hooks.ts) repeats how many cleanups went wrong.
 *
 * @example
 * afterEachCleanup('close the apps', async () => { for (const app of apps.splice(0)) await app.close(); });
 */

/** How long one cleanup may take before it is abandoned (logged) and the suite moves on. */
export const CLEANUP_DEADLINE_MS = 10_000;

/** Cleanups that failed or overran during this run, for the summary at its end. */
export const cleanupProblems: string[] = [];

/**
 * Runs `work` for at most `ms`. A rejection or an overrun is logged and recorded, never thrown; the
 * abandoned work may still finish in the background. Resolves `true` when `work` finished cleanly.
 */
export async function settleWithin(label: string, work: () => unknown, ms = CLEANUP_DEADLINE_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<'overrun'>((resolve) => { timer = setTimeout(() => resolve('overrun'), ms); });
  try {
    const outcome = await Promise.race([Promise.resolve().then(work).then(() => 'done' as const), overrun]);
    if (outcome === 'done') return true;
    report(`${label}: did not finish within ${ms} ms; abandoned`);
  } catch (error) {
    report(`${label}: failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
  return false;
}

/** `afterEach` bounded by {@link settleWithin}; its mocha timeout sits above the deadline, so it never times out. */
export function afterEachCleanup(label: string, work: (this: Mocha.Context) => unknown, ms = CLEANUP_DEADLINE_MS): void {
  afterEach(`cleanup: ${label}`, async function () {
    this.timeout(ms + 5_000);
    await settleWithin(label, () => work.call(this), ms);
  });
}

/** `after` bounded by {@link settleWithin}; its mocha timeout sits above the deadline, so it never times out. */
export function afterCleanup(label: string, work: (this: Mocha.Context) => unknown, ms = CLEANUP_DEADLINE_MS): void {
  after(`cleanup: ${label}`, async function () {
    this.timeout(ms + 5_000);
    await settleWithin(label, () => work.call(this), ms);
  });
}

function report(problem: string): void {
  cleanupProblems.push(problem);
  console.warn(`      cleanup: ${problem}`);
}
