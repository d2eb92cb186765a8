import { cleanupProblems } from './cleanup';

/**
 * Mocha root hooks, loaded by .mocharc's `require`. When an `after each` hook fails, mocha skips the
 * rest of that describe and reports only the hook: a run where 51 tests never ran looked like one
 * failure (issue 10). (`fail-hook-affected-tests` in .mocharc covers `before` / `before each` hooks.)
 * At the end of the run this names the tests that did not run because a hook of their describe
 * failed, fails the run, and prints `tests not run: N` for CI to add to its count; it also repeats the
 * cleanups that failed or overran (they log, and never hang the suite: see cleanup.ts).
 */
export const mochaHooks = {
  afterAll(this: Mocha.Context): void {
    const root = this.test?.parent;
    if (cleanupProblems.length > 0) {
      console.warn(`\n  ${cleanupProblems.length} cleanup step(s) failed or overran (the suites went on):\n${cleanupProblems.map((p) => `    - ${p}`).join('\n')}`);
    }
    if (!root) return;
    const notRun = root.suites.flatMap((suite) => skippedByFailedHook(suite, false));
    if (notRun.length === 0) return;
    console.log(`\n  tests not run: ${notRun.length}\n${notRun.map((t) => `    - ${t}`).join('\n')}`);
    throw new Error(`${notRun.length} test(s) did not run because a hook of their describe failed (listed above)`);
  },
};

/** Tests with no result (neither run nor pending) under a suite whose hook, or an ancestor's, failed. */
function skippedByFailedHook(suite: Mocha.Suite, ancestorFailed: boolean): string[] {
  const failed = ancestorFailed || hooksOf(suite).some((hook) => hook.state === 'failed');
  const here = failed ? suite.tests.filter((t) => t.state === undefined && !t.isPending()).map((t) => t.fullTitle()) : [];
  return [...here, ...suite.suites.flatMap((child) => skippedByFailedHook(child, failed))];
}

function hooksOf(suite: Mocha.Suite): Mocha.Hook[] {
  // Mocha keeps a suite's hooks in these (untyped) arrays.
  const s = suite as unknown as Record<'_beforeAll' | '_beforeEach' | '_afterEach' | '_afterAll', Mocha.Hook[] | undefined>;
  return [...(s._beforeAll ?? []), ...(s._beforeEach ?? []), ...(s._afterEach ?? []), ...(s._afterAll ?? [])];
}
