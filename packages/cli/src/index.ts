/**
 * @warren/cli as a library: what the `warren` command does, callable from scripts and tests.
 *
 * @example
 * ```ts
 * import { buildAsyncApi, loadService } from '@warren/cli';
 * const service = loadService(['dist/src/handlers.js']);
 * const doc = buildAsyncApi({ title: 'billing', version: '1.0.0', ...service });
 * ```
 */
export { buildAsyncApi } from './asyncapi';
export type { AsyncApiDocument, AsyncApiSource } from './asyncapi';
export { PayloadSchemas, ruleKeywords } from './json-schema';
export type { ClassMetadataSources, JsonSchema, TypeRule, ValidationRule } from './json-schema';
export { loadService, metadataSources } from './service-loader';
export type { LoadedService } from './service-loader';
export { buildTopology, bindingMatches } from './topology-model';
export type { ServicePlans, TopologyBinding, TopologyFinding, TopologyModel, TopologyQueue, TopologyRoute, QueueRole } from './topology-model';
export { renderTopology, describeFinding } from './topology-render';
export type { TopologyFormat } from './topology-render';
export { topologyDefinitions } from './topology-definitions';
export type { RabbitDefinitions } from './topology-definitions';
export { checkQueues } from './topology-check';
export type { QueueCheck } from './topology-check';
export { diffContracts, formatContractReport } from './contract-diff';
export type { ContractChange } from './contract-diff';
export { compareSchemas } from './schema-compatibility';
export type { Direction, SchemaChange, RefResolver } from './schema-compatibility';
export { ExitCode } from './exit-codes';
