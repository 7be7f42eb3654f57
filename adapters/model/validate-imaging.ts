import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../docs/schema/imaging-event.schema.json';
import type { ImagingEvent } from './imaging';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const check = ajv.compile<ImagingEvent>(schema);

/** Thrown when something that claims to be an imaging event is not one. */
export class InvalidImagingEventError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid imaging event: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.name = 'InvalidImagingEventError';
  }
}

/** Checks a parsed value against the imaging event schema and returns it typed, or throws with every problem. */
export function validateImagingEvent(value: unknown): ImagingEvent {
  if (check(value)) return value;
  const problems = (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  throw new InvalidImagingEventError([...new Set(problems)]);
}

/** Parses bytes from the bus (UTF-8 JSON) into a valid imaging event, or throws a clear error. */
export function parseImagingEvent(payload: Buffer | string): ImagingEvent {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new InvalidImagingEventError([`not JSON: ${(err as Error).message}`]);
  }
  return validateImagingEvent(value);
}
