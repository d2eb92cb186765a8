/** The part of Rascal's API the bench uses (Rascal ships no type declarations). */
declare module 'rascal' {
  import type { EventEmitter } from 'node:events';
  export type BrokerConfig = Record<string, unknown>;
  export class BrokerAsPromised extends EventEmitter {
    static create(config: BrokerConfig): Promise<BrokerAsPromised>;
    subscribe(name: string): Promise<EventEmitter>;
    publish(name: string, message: unknown): Promise<EventEmitter>;
    shutdown(): Promise<void>;
  }
}
