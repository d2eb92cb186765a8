import * as path from 'node:path';
import type * as CoreBrokerSupport from '../../../../packages/core/test/support/broker';

/**
 * The core package's broker helpers (describeWithBroker, uniqueName, AMQP_URL), loaded from its
 * compiled tests at run time: one copy of the rules for when broker tests run, skip or fail.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const support = require(path.resolve(__dirname, '../../../../../packages/core/dist/test/support/broker')) as typeof CoreBrokerSupport;

export const { AMQP_URL, uniqueName, describeWithBroker } = support;
