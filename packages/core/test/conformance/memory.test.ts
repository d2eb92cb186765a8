import { MemoryTransport } from '../../src/memory-transport';
import { defineConformanceSuite } from './suite';

defineConformanceSuite('MemoryTransport', async () => new MemoryTransport());
