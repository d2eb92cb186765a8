import { MemoryTransport } from '../../src/transports/memory/transport';
import { defineConformanceSuite } from './suite';

defineConformanceSuite('MemoryTransport', async () => new MemoryTransport());
