import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares given credentials with the expected ones in constant time. Both sides are hashed
 * first so that timingSafeEqual sees equal lengths and the comparison time says nothing about
 * the length or a common prefix of the secret.
 */
export function credentialsMatch(
  expected: { username: string; password: string },
  username: string | undefined,
  password: Buffer | undefined,
): boolean {
  const userOk = timingSafeEqual(digest(expected.username), digest(username ?? ''));
  const passOk = timingSafeEqual(digest(expected.password), digest(password ?? Buffer.alloc(0)));
  // both comparisons always run; no short-circuit on the username
  return (username !== undefined) && (password !== undefined) && userOk && passOk;
}

function digest(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}
