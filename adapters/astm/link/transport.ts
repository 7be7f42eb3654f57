/**
 * Wires a link to a byte stream: a TCP socket, a serial port, or a pseudo-terminal opened with
 * node:fs. The link itself never sees the stream, which is why it runs the same over all three.
 */
import type { EventEmitter } from 'node:events';
import type { AstmLink } from './link';

/** Anything that emits 'data' with Buffers and 'end' or 'close' when the line goes: a socket, a read stream, a serial port. */
export type ByteSource = EventEmitter;

export interface ByteSink {
  write(chunk: Buffer): unknown;
}

/**
 * Feeds what `source` reads into the link and writes what the link emits to `sink` (the same
 * object for a socket). When the source ends, the link is closed. Returns a function that undoes
 * the wiring without closing anything.
 */
export function attachLink(link: AstmLink, source: ByteSource, sink: ByteSink = source as unknown as ByteSink): () => void {
  const onData = (chunk: Buffer) => link.receive(chunk);
  const onOutput = (bytes: Buffer) => {
    sink.write(bytes);
  };
  const onEnd = () => link.close();
  source.on('data', onData);
  source.on('end', onEnd);
  source.on('close', onEnd);
  link.on('output', onOutput);
  return () => {
    source.off('data', onData);
    source.off('end', onEnd);
    source.off('close', onEnd);
    link.off('output', onOutput);
  };
}
