import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * ../shared beside the clone holds real device captures whose licences forbid copying them in.
 * Tests that need them call requireShared() and fail loudly (not skip) when it is absent.
 */
export const SHARED_DIR = process.env.PASSERELLE_SHARED_DIR ?? resolve(__dirname, '..', '..', '..', '..', 'shared');

export function sharedFixture(...parts: string[]): string {
  const path = join(SHARED_DIR, 'fixtures', ...parts);
  if (!existsSync(path)) {
    throw new Error(`fixture ${parts.join('/')} not found: these tests need ../shared/fixtures beside the clone (or PASSERELLE_SHARED_DIR)`);
  }
  return path;
}

/** Debian's interpreter, which has python3-hl7 (the python3 first on PATH may not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
