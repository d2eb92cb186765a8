import 'reflect-metadata';
import { MemoryTransport } from '../../src/transports/memory/transport';
import { SharedTransport } from './harness';
import { defineSecuritySuite } from './suite';

let shared = new MemoryTransport();
defineSecuritySuite({
  name: 'the in-memory broker',
  appTransport: () => {
    if (!shared.connected) shared = new MemoryTransport();
    return new SharedTransport(shared);
  },
  admin: async () => {
    if (!shared.connected) shared = new MemoryTransport();
    return new SharedTransport(shared);
  },
});
