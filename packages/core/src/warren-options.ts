import type { DependencyContainer } from 'tsyringe';
import type { Codec } from './codec';
import type { WarrenConfig } from './config';
import type { Logger } from './logger';
import type { OffsetStore } from './offset-store';
import type { Class } from './metadata';
import type { TopologyOptions } from './options';
import type { ConsumeMiddleware, SettledEvent } from './pipeline';
import type { PublishMiddleware } from './publishing';
import type { Transport } from './transport';
import type { ValidationSettings } from './validation';

/** Options of {@link Warren.start}. */
export interface WarrenOptions extends WarrenConfig {
  /** A ready transport (tests, custom brokers); overrides `url`. */
  transport?: Transport;
  /** Handler classes (with `@Consumer` methods). */
  handlers?: Class[];
  /** Publisher classes not reachable from handlers' constructors. */
  publishers?: Class[];
  /** Globs of compiled files to load handler and publisher classes from, e.g. `['dist/**\/*.handlers.js']`. */
  scan?: string[];
  /** The tsyringe container to resolve handlers from (a child of it is used). */
  container?: DependencyContainer;
  logger?: Logger;
  codecs?: Codec[];
  /** Chains around every handler call and every publish (Warren's own telemetry runs outermost). */
  middleware?: { consume?: ConsumeMiddleware[]; publish?: PublishMiddleware[] };
  /** OpenTelemetry spans, trace propagation and metrics through @opentelemetry/api (default true). */
  telemetry?: boolean;
  /** Called once per delivery with how it ended (handled, retried, dead-lettered…). Must not throw. */
  onSettled?: (event: SettledEvent) => void;
  /** Broker URL(s). Default: `AMQP_URL`; without either, the embedded in-memory broker. */
  url?: string | readonly string[];
  /** Name of the service: `appId` on published messages and the connection name. */
  name?: string;
  /** Validation defaults for every consumer and publisher. */
  validation?: ValidationSettings;
  /** Exchanges and exchange-to-exchange bindings to declare besides the consumers' and publishers' (see docs/publishing.md). */
  topology?: TopologyOptions;
  /** Where `${ENV}` placeholders are looked up (default `process.env`). */
  env?: Record<string, string | undefined>;
  /**
   * Where stream consumers store their offsets (default: in memory, so a restarted service starts
   * each stream consumer again from its `offset` option). See docs/streams.md.
   */
  offsetStore?: OffsetStore;
  /**
   * False: attach no consumer (topology is declared and publishers are bound as usual), for tools and
   * one-off scripts, e.g. `warren replay`, which runs a consumer's handler through `app.replay()` only.
   * Default true.
   */
  consume?: boolean;
}
