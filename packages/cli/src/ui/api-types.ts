/**
 * The JSON the console's server sends and accepts: one place for both sides (the page imports these
 * types only). Every string that came from a message or a broker is data, never markup: the page
 * renders it as text.
 */

/** GET /api/config: what the page needs before it draws anything. */
export interface ConsoleConfig {
  service: string;
  /** The AMQP broker without userinfo (`amqp://host:5672/vhost`), or undefined when none is configured. */
  broker?: string;
  vhost: string;
  /** The management API without userinfo, or undefined when it is turned off. */
  management?: string;
  /** Replay and discard are offered (started with --allow-actions); each still needs the token. */
  actionsAllowed: boolean;
  /** How often the page refreshes live numbers, in ms. */
  refreshMs: number;
}

export type GraphNodeKind = 'publisher' | 'exchange' | 'queue' | 'consumer';

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  label: string;
  /** A second line: exchange type, queue role. */
  detail?: string;
  /** For queues: consumer, retry, dead-letter or redelivered. */
  role?: string;
  /** For queues and exchanges: the broker name the live numbers are keyed by. */
  name?: string;
  /** Part of a dead route (a publisher route no consumer binds, a binding no publisher feeds). */
  dead?: boolean;
}

export type GraphEdgeKind = 'route' | 'binding' | 'consume' | 'dead-letter' | 'retry';

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  kind: GraphEdgeKind;
  label?: string;
  dead?: boolean;
}

/** GET /api/wiring: the service's topology as a graph (the page lays it out). */
export interface WiringGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The dead routes and conflicts, one sentence each (as `warren topology` words them). */
  findings: string[];
}

export interface QueueLive {
  messages: number;
  ready: number;
  unacked: number;
  consumers: number;
  /** Messages per second, when the management API collects rates. */
  publishRate?: number;
  deliverRate?: number;
}

export interface ExchangeLive {
  publishInRate?: number;
  publishOutRate?: number;
}

/** GET /api/live: numbers from the management API, or why there are none. */
export type LiveNumbers =
  | { status: 'ok'; at: number; queues: Record<string, QueueLive>; exchanges: Record<string, ExchangeLive> }
  | { status: 'off' | 'unreachable' | 'unauthorized' | 'error'; at: number; reason: string };

/** One consumer's dead-letter queue, as the overview lists it. */
export interface DeadLetterQueueSummary {
  consumer: string;
  queue: string;
  /** Undefined when the consumer keeps no dead-letter queue (deadLetter: { queue: false }). */
  deadLetterQueue?: string;
  /** Messages in it now; undefined when it could not be read (see `problem`). */
  count?: number;
  problem?: string;
}

/** GET /api/dead-letters */
export interface DeadLetterOverview {
  queues: DeadLetterQueueSummary[];
  /** Set when no broker is configured or it cannot be reached. */
  problem?: string;
}

export interface DeadLetterRow {
  /** A fingerprint of the message (its id, headers and body): what actions name it by. */
  id: string;
  messageId?: string;
  errorCode?: string;
  errorMessage?: string;
  /** `x-warren-last-failure` (ms since the epoch), when the header is there. */
  failedAt?: number;
  route?: string;
  attempts?: number;
  group: string;
}

export interface DeadLetterGroup {
  /** `CODE: message`: what the group is named and selected by. */
  key: string;
  count: number;
  /** The newest failure of the group (ms), when known. */
  newest?: number;
}

/** GET /api/dead-letters/:consumer */
export interface DeadLetterListing {
  consumer: string;
  queue: string;
  deadLetterQueue: string;
  /** Messages in the queue when it was read. */
  total: number;
  /** Messages read (at most the limit). */
  read: number;
  /** Groups, newest first. */
  groups: DeadLetterGroup[];
  /** Messages, newest first. */
  messages: DeadLetterRow[];
}

export type BodyView = { kind: 'json' | 'text' | 'hex'; text: string; bytes: number; truncated: boolean };

/** GET /api/dead-letters/:consumer/messages/:id */
export interface DeadLetterDetail extends DeadLetterRow {
  errorDetails?: string;
  /** The validation issues of `x-warren-error-details`, one per entry. */
  issues: string[];
  consumerHeader?: string;
  failedQueue?: string;
  contentType?: string;
  firstFailedAt?: number;
  replayed?: number;
  /** Every header as name and displayed value, in the message's order. */
  headers: Array<[string, string]>;
  body: BodyView;
}

/** Which dead letters an action applies to. */
export type Selection =
  | { kind: 'message'; id: string }
  | { kind: 'group'; key: string }
  | { kind: 'filter'; text: string }
  | { kind: 'all' };

/** POST /api/dead-letters/:consumer/replay and …/discard */
export interface ActionRequest {
  selection: Selection;
}

export interface ActionResult {
  action: 'replay' | 'discard';
  /** Messages sent back to `queue` (replay) or removed (discard). */
  moved: number;
  /** Messages left because they did not match. */
  skipped: number;
  /** Messages left because they could not be replayed, with the reason. */
  failed: Array<{ messageId?: string; reason: string }>;
  queue: string;
}

/** GET /api/contracts: the AsyncAPI document, digested for reading. */
export interface ContractView {
  title: string;
  version: string;
  description?: string;
  channels: ContractChannel[];
}

export interface ContractChannel {
  name: string;
  address: string;
  exchange?: string;
  messages: ContractMessage[];
  /** `send` (the service publishes) or `receive` (it consumes), with the operation's name. */
  operations: Array<{ action: string; name: string; summary?: string }>;
}

export interface ContractMessage {
  name: string;
  title?: string;
  contentType?: string;
  /** The payload schema with its `$ref`s resolved (a loop is cut with a `$ref` marker). */
  payload: unknown;
  examples: unknown[];
}

export interface ApiError {
  error: string;
}
