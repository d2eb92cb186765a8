// The code blocks of docs/in-memory-broker.md, compiled; docs.test.ts checks each region equals its block.

// #region in-memory-broker-1
import { MemoryTransport } from '@warren/core';

const transport = new MemoryTransport({ events: { onError: (e) => console.error(e) } });
// #endregion in-memory-broker-1
