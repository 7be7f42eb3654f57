/**
 * A node's status dot, said one way everywhere: green dot = working, yellow ring = waiting
 * or retrying, red ring = failing, grey ring = not configured or stopped. Texts come from the
 * node's locale and stay under 20 characters in the editor.
 */
import type { Node } from 'node-red';

type Fill = 'green' | 'yellow' | 'red' | 'grey' | 'blue';

export class NodeStatus {
  private last = '';

  constructor(private readonly node: Node) {}

  private show(fill: Fill, shape: 'dot' | 'ring', text: string): void {
    const key = `${fill}|${shape}|${text}`;
    if (key === this.last) return; // the editor is told only of changes
    this.last = key;
    this.node.status({ fill, shape, text });
  }

  working(text: string): void { this.show('green', 'dot', text); }
  waiting(text: string): void { this.show('yellow', 'ring', text); }
  failing(text: string): void { this.show('red', 'ring', text); }
  idle(text: string): void { this.show('grey', 'ring', text); }
  clear(): void {
    this.last = '';
    this.node.status({});
  }
}

/** Error text for a status dot: the first line, short. */
export function shortError(err: unknown, max = 32): string {
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
