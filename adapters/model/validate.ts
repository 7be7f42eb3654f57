import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../docs/schema/result.schema.json';
import type { Result } from './result';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const check = ajv.compile<Result>(schema);

/** Thrown when something that claims to be a canonical result is not one. */
export class InvalidResultError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid canonical result: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.name = 'InvalidResultError';
  }
}

/** Checks a parsed value against the result schema and returns it typed, or throws with every problem. */
export function validateResult(value: unknown): Result {
  if (check(value)) return value;
  const problems = (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  throw new InvalidResultError([...new Set(problems)]);
}

/** Parses bytes from the bus (UTF-8 JSON) into a valid result, or throws a clear error. */
export function parseResult(payload: Buffer | string): Result {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new InvalidResultError([`not JSON: ${(err as Error).message}`]);
  }
  return validateResult(value);
}
