/**
 * @warren/core: decorate handler classes with `@Consumer` and publisher classes with `@Publisher`,
 * then `Warren.start()` them on RabbitMQ (or the embedded in-memory broker).
 */
import 'reflect-metadata';

export { Warren } from './app';
export type { WarrenOptions } from './app';
export type { HealthReport } from './health-server';
export { Consumer, Publisher, route } from './decorators';
export type { Route } from './decorators';
export type {
  BodyKind, ConfigurableName, ConsumerOptions, DeadLetterOptions, ExchangeOptions, PublisherOptions, RetryPolicy,
  RouteDefinition, RouteOptions, SendOptions, PublisherBinding, ExchangeBindingOptions, ExchangeDeclaration, TopologyOptions,
} from './options';
export { MessageContext } from './context';
export { MessageAction, ack, reject, requeue, retryLater, MAX_REQUEUES } from './actions';
export { MAX_RETRY_DELAY_MS } from './retry-delays';
export {
  DELAY_LEVELS, MAX_DELAY_MS, DELAY_DELIVERY_EXCHANGE, DELAY_UNROUTABLE, delayLevelName, delayCascadeTopology, delayHopTopology, retryHop, routeHop,
  readDelayedRoutingKey,
} from './delay-cascade';
export type { DelayHop } from './delay-cascade';
export { QUORUM_DELIVERY_LIMIT, DEAD_LETTER_QUEUE_DELIVERY_LIMIT } from './consumer-topology';
export type { QueueType } from './consumer-topology';
export { MAX_FAILED_REPUBLISHES } from './outcome';
export type { ActionKind } from './actions';
export {
  WarrenError, ConfigurationError, ConnectionError, TopologyError, DecodeError, PayloadValidationError, UnroutableError,
  PublishTimeoutError, PublishError, RequestTimeoutError, RemoteError, HandlerError, InvalidDelayError, RequeueLimitError,
  HandlerTimeoutError, RedeliveryLimitError, QueueSettingsConflictError, DispatchConflictError, NoHandlerError, InvalidStreamOffsetError,
  summarizeIssues,
} from './errors';
export type { ValidationIssue } from './errors';
export { CodecRegistry, decodeBody, jsonCodec, textCodec } from './codec';
export type { Codec, BodyShape } from './codec';
export type { ContentEncoding } from './content-encoding';
export { DIRECT_REPLY_TO_PREFIX } from './replies';
export { MAX_PREFETCH, MAX_TIMEOUT_MS } from './limits';
export { createPayloadValidator } from './validation';
export type { PayloadValidator, ValidationSettings } from './validation';
export { bindLogger, defaultLogger, jsonLogger, prettyLogger, silentLogger } from './logger';
export type { Logger, LogFields, LogFormat, LogLevel } from './logger';
export type { ConsumeMiddleware, ConsumeInvocation, SettledEvent } from './pipeline';
export type { BatchInvocation } from './batch';
export { planConsumer, resolveName, retryDelay, DEAD_LETTER_EXCHANGE, DEFAULT_CONSUMER_SETTINGS } from './consumer-plan';
export type { ConsumerPlan, ConsumerDefaults, StreamPlan } from './consumer-plan';
export { MemoryOffsetStore } from './offset-store';
export type { OffsetStore } from './offset-store';
export type { StreamOffset, StreamInterval } from './stream-offset';
export type { StreamReplayOptions, StreamReplayReport } from './stream-replay';
export { planPublisher, publishVia } from './publishing';
export { groupConsumers } from './queue-groups';
export type { QueueGroup } from './queue-groups';
export { DispatchTable } from './dispatch-table';
export type { DispatchTarget } from './dispatch-table';
export { planAppTopology } from './exchange-bindings';
export type { AppTopologyPlan, ExchangeBindingPlan } from './exchange-bindings';
export { republishFailureKind } from './republish-failures';
export type { RepublishFailureKind } from './republish-failures';
export type { PublisherPlan, PublishMiddleware } from './publishing';
export { createTelemetry } from './telemetry';
export { configFromEnv, assertValidConfig } from './config';
export type { WarrenConfig } from './config';
export { startHealthServer } from './health-server';
export { inbox, MemoryInboxStore } from './inbox';
export { listDeadLetters, replayDeadLetters, discardDeadLetters, describeDeadLetter, deadLetterFilter, MAX_HELD_MESSAGES } from './dead-letters';
export type { DeadLetter, DiscardReport, ReplayOptions, ReplayReport } from './dead-letters';
export type { InboxStore, InboxOptions, ClaimResult } from './inbox';
export type { Telemetry } from './telemetry';
export { constructorDependencies, getConsumers, getPublisher, getPublisherRoutes, isHandlerClass } from './metadata';
export type { ConsumerDefinition, PublisherDefinition, Class } from './metadata';
export { scanModules } from './scan';
export { beginIntrospection, activeIntrospection } from './introspection';
export type { IntrospectionRecord, StartedOptions } from './introspection';
export { loadedCopies } from './copies';
export { AmqpTransport } from './transports/amqp/transport';
export type { AmqpTransportOptions } from './transports/amqp/transport';
export { MemoryTransport } from './transports/memory/transport';
export { redactUrl, redactText, stripUserinfo } from './redact';
export { topicMatches, topicPattern, topicWords } from './transports/memory/routing';
export type {
  Transport, TransportEvents, Delivery, FetchedMessage, OutgoingMessage, MessageProperties, Settlement, DeliveryHandler,
  SubscribeOptions, Subscription, CloseOptions, PublishOptions, RequestOptions, QueueInfo, Topology, ExchangeSpec, QueueSpec,
  QueueBindingSpec, ExchangeBindingSpec, ExchangeType, FieldTable,
} from './transport';
