#!/usr/bin/env node
/** `npm start`: read the environment, start the hub, stop it cleanly on SIGTERM/SIGINT. */
import { ConfigError, readConfig } from './config';
import { startHub } from './hub';

const SHUTDOWN_LIMIT_MS = 15_000;

async function main(): Promise<void> {
  const config = readConfig();
  const hub = await startHub(config);
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    console.log(`${signal}: stopping (listeners closed, in-flight messages finished, queues kept on disk)`);
    const limit = setTimeout(() => {
      console.error(`still stopping after ${SHUTDOWN_LIMIT_MS / 1000} s: exiting; queued messages stay on disk and go out at the next start`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    limit.unref();
    hub.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('error while stopping:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`Passerelle cannot start: ${err.message}`);
  else console.error('Passerelle cannot start:', err);
  process.exit(2);
});
