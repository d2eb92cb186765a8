/**
 * A FIFO on an array with a moving head index. `Array.prototype.shift` is O(n) on large arrays, and
 * a queue with a million ready messages must still take one from the front in constant time.
 * Requeued messages go back in order of their sequence number, as RabbitMQ's classic queues put a
 * requeued message back at its original position.
 */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      // Compact once the dead prefix outweighs the live part: amortised O(1) per shift.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Inserts `item` before the first element `before(item, element)` holds for (at the end if none). */
  insertOrdered(item: T, before: (item: T, element: T) => boolean): void {
    let low = this.head;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(item, this.items[middle] as T)) high = middle;
      else low = middle + 1;
    }
    if (low === this.head && this.head > 0) this.items[--this.head] = item;
    else this.items.splice(low, 0, item);
  }

  /** Removes and returns every element, oldest first. */
  drain(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}
