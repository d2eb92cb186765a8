import * as path from 'node:path';
import type * as CoreCleanup from '../../../../packages/core/test/support/cleanup';

/**
 * The core package's bounded cleanup hooks (afterEachCleanup, afterCleanup), loaded from its compiled
 * tests at run time: one copy of the rule that a cleanup hook logs and never hangs the suite.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const support = require(path.resolve(__dirname, '../../../../../packages/core/dist/test/support/cleanup')) as typeof CoreCleanup;

export const { afterCleanup, afterEachCleanup, settleWithin } = support;
