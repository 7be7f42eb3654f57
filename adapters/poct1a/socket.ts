/**
 * Runs a Poct1Manager on a TCP socket: bytes in, messages out, close when the conversation ends.
 * The only place in this adapter that touches a socket on the manager's side.
 */
import type { Socket } from 'node:net';
import type { Poct1Manager } from './manager';

/** Time left to the device to close after our FIN before the socket is destroyed. */
const LINGER_MS = 5_000;

export function bindSocket(socket: Socket, manager: Poct1Manager): void {
  socket.setNoDelay(true);
  manager.on('send', (message: { bytes: Buffer }) => {
    if (!socket.destroyed) socket.write(message.bytes);
  });
  manager.on('close', () => {
    if (socket.destroyed) return;
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
  socket.on('data', (chunk: Buffer) => manager.receive(chunk));
  socket.on('end', () => manager.peerClosed());
  socket.on('close', () => manager.peerClosed());
  // 'close' follows an error: the manager hears of it there.
  socket.on('error', () => undefined);
}
