/**
 * Where stream consumers keep their place. A stream is not a queue: a message stays in it after it
 * was read, and each reader says where it starts. Warren tracks, per stream consumer, the offset up
 * to which every message has been processed, writes it to an `OffsetStore` every few messages (the
 * consumer's `offsetCommit`), and on start resumes right after the stored offset.
 *
 * Implement this interface to keep offsets where your service keeps its state; `@warren/postgres`
 * has `PostgresOffsetStore`.
 *
 * @example
 * ```ts
 * const offsets = new MemoryOffsetStore();
 * await Warren.start({ handlers: [AuditLog], offsetStore: offsets });
 * ```
 */
export interface OffsetStore {
  /** The last offset stored for this consumer name, or undefined when none is. */
  load(consumer: string): Promise<number | undefined>;
  /**
   * Records that the consumer has processed every message of its stream up to and including
   * `offset`. Called with increasing offsets, one call at a time per consumer; resolve only once
   * the offset is durable (a later `load` returns it).
   */
  save(consumer: string, offset: number): Promise<void>;
}

/**
 * Offsets in this process's memory: the default. They live as long as the store object, so a
 * restarted service starts again from each consumer's `offset` option. Fine for tests and for
 * consumers that start at `'next'` on purpose; use a durable store (`PostgresOffsetStore`) to resume.
 *
 * @example
 * ```ts
 * const offsets = new MemoryOffsetStore();
 * await offsets.save('audit:Audit.record', 41);
 * await offsets.load('audit:Audit.record'); // 41
 * ```
 */
export class MemoryOffsetStore implements OffsetStore {
  private readonly offsets = new Map<string, number>();

  async load(consumer: string): Promise<number | undefined> {
    return this.offsets.get(consumer);
  }

  async save(consumer: string, offset: number): Promise<void> {
    this.offsets.set(consumer, offset);
  }
}
