import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { mkdirSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { ClassicLevel } from 'classic-level';
import { credentialsMatch } from './credentials';
import { IngressJournal } from './ingress-journal';
import { OrderedLevelPersistence, serializePublishes } from './ordering';

export interface BrokerOptions {
  host: string;
  /** 0 = random */
  port: number;
  /** LevelDB persistence (sessions, queued messages, retained, ingress journal) lives here. */
  dataDir: string;
  /** Absent = open: only the gateway may choose that, and only on loopback. */
  credentials?: { username: string; password: string };
  tls?: { port: number; key: Buffer; cert: Buffer; ca?: Buffer };
  authorize?: {
    publish?: (clientId: string, topic: string) => boolean;
    subscribe?: (clientId: string, filter: string) => boolean;
  };
  /** Errors of the broker itself (persistence); default: written to stderr. */
  onError?: (err: Error) => void;
}

export interface RunningBroker {
  port: number;
  tlsPort?: number;
  /** mqtt://host:port */
  url: string;
  clients(): number;
  /** Closes listeners, clients, then persistence. */
  close(): Promise<void>;
}

const BAD_USERNAME_OR_PASSWORD = 4;

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const onError = options.onError ?? ((err: Error) => console.error(`passerelle bus broker: ${err.message}`));
  mkdirSync(options.dataDir, { recursive: true });
  const db = new ClassicLevel<string, Buffer>(options.dataDir, { valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (err) {
    // typically LEVEL_LOCKED: another process runs a broker on the same dataDir
    throw new Error(`bus broker: cannot open persistence in ${options.dataDir}: ${(err as Error).message}`, { cause: err });
  }
  const persistence = new OrderedLevelPersistence(db);
  const journal = new IngressJournal(db);
  const journalled = new WeakMap<object, string>();

  const broker = await Aedes.createBroker({
    persistence,
    // stable client ids such as "passerelle-journal-<site>" exceed MQTT 3.1.1's minimum of 23
    maxClientsIdLength: 128,
    authenticate(_client, username, password, done) {
      if (!options.credentials || credentialsMatch(options.credentials, username, password)) return done(null, true);
      const err = new Error('bad username or password') as AuthenticateError;
      err.returnCode = BAD_USERNAME_OR_PASSWORD;
      done(err, null);
    },
    authorizePublish(client, packet, done) {
      if (packet.topic.startsWith('$SYS/')) return done(new Error('$SYS/ topics are reserved'));
      if (client && options.authorize?.publish && !options.authorize.publish(client.id, packet.topic)) {
        return done(new Error(`client ${client.id} may not publish on ${packet.topic}`));
      }
      if (packet.qos === 0) return done(null);
      // on disk before aedes writes the PUBACK (see ingress-journal.ts)
      journal.record({ topic: packet.topic, payload: toBuffer(packet.payload), qos: packet.qos, retain: packet.retain })
        .then((key) => { journalled.set(packet, key); done(null); }, (err: Error) => done(err));
    },
    authorizeSubscribe(client, sub, done) {
      if (options.authorize?.subscribe && !options.authorize.subscribe(client.id, sub.topic)) return done(null, null);
      done(null, sub);
    },
    published(packet, _client, done) {
      // aedes has queued the message for every persistent session: the journal entry can go
      const key = journalled.get(packet);
      if (key !== undefined) {
        journalled.delete(packet);
        journal.forget(key).catch(onError);
      }
      done(null);
    },
  });
  // aedes emits 'error' (failed offline enqueue, will sweep) though its types omit it
  (broker as EventEmitter).on('error', onError);
  serializePublishes(broker, onError);

  // messages acknowledged by a previous run but perhaps never queued
  for await (const { key, entry } of journal.leftovers()) {
    await new Promise<void>((resolve, reject) => {
      const packet = { cmd: 'publish', topic: entry.topic, payload: entry.payload, qos: entry.qos, retain: entry.retain, dup: false } as PublishPacket;
      broker.publish(packet, (err?: Error) => (err ? reject(err) : resolve()));
    });
    await journal.forget(key);
  }

  const sockets = new Set<Socket>();
  const track = (server: Server) => server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const servers: Server[] = [];
  let port: number;
  let tlsPort: number | undefined;
  try {
    const plain = track(createServer(broker.handle));
    servers.push(plain);
    port = await listen(plain, options.host, options.port);
    if (options.tls) {
      const { key, cert, ca } = options.tls;
      const secure = track(createTlsServer({ key, cert, ca }, broker.handle));
      servers.push(secure);
      tlsPort = await listen(secure, options.host, options.tls.port);
    }
  } catch (err) {
    // port taken, bad key...: give the database back before failing
    for (const s of servers) s.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await journal.settle();
    await persistence.destroy();
    throw new Error(`bus broker: cannot listen on ${options.host}: ${(err as Error).message}`, { cause: err });
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    tlsPort,
    url: `mqtt://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    clients: () => broker.connectedClients,
    close() {
      closing ??= (async () => {
        const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        for (const socket of sockets) socket.destroy(); // connections that never sent CONNECT
        await Promise.all(closed);
        await journal.settle();
        await persistence.destroy();
      })();
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function toBuffer(payload: string | Buffer): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}

export type { Client as AedesClient };
