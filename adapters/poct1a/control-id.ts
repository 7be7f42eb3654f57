/**
 * Control ids of the messages one side sends on one connection. POCT1-A only asks that the ACK
 * repeat them, but devices store them as integers: a counter, unique per connection, that stays
 * within a signed 32-bit integer.
 */
const MAX = 2_147_483_647;

export class ControlIdSequence {
  private next: number;

  constructor(start = 1) {
    if (!Number.isInteger(start) || start < 1 || start > MAX) throw new RangeError('control id start must be an integer from 1 to 2147483647');
    this.next = start;
  }

  take(): string {
    const id = this.next;
    this.next = id === MAX ? 1 : id + 1;
    return String(id);
  }
}
