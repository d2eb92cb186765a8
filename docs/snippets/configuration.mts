// The code blocks of docs/configuration.md, compiled; docs.test.ts checks each region equals its block.
import { configFromEnv, Warren } from '@warren/core';

declare class Billing {}

// #region configuration-1
await Warren.run({ handlers: [Billing], ...configFromEnv() });
// #endregion configuration-1
