/**
 * The cart contract, passerelle.vitals/1 (docs/schema/vitals.schema.json): what a telemedicine
 * cart publishes on passerelle/v1/<site>/cart/<cart id>/vitals. Validated against the schema, then
 * against what a schema cannot say (the topic's cart, times in the future).
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../docs/schema/vitals.schema.json';
import type { Code } from '../model';

export const VITALS_SCHEMA = 'passerelle.vitals/1';

export interface CartDevice {
  manufacturer?: string;
  model?: string;
  serial?: string;
  eui64?: string;
  bluetoothAddress?: string;
}

export interface CartMeasurement {
  quantity?: string;
  code?: Code;
  value: number | null;
  unit?: string;
  time: string;
  device?: CartDevice;
  bodySite?: string | Code;
  method?: Code;
}

export interface CartVitals {
  schema: typeof VITALS_SCHEMA;
  id: string;
  cart: { id: string; manufacturer?: string; model?: string; serial?: string; softwareVersion?: string };
  teleconsultation: { id: string; room?: string; startedAt?: string };
  patient: {
    ins?: { value: string; type: 'INS-NIR' | 'INS-NIA'; qualified?: boolean };
    localId?: { value: string; authority: string };
    family: string;
    given?: string[];
    birthName?: string;
    birthDate?: string;
    sex?: 'F' | 'M' | 'O' | 'U';
  };
  operator?: { id?: string; name?: string };
  measurements: CartMeasurement[];
}

/** Thrown for input that is not valid vitals (cart JSON, FHIR, PCD-01, BLE): the message says what and where. */
export class InvalidVitalsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid vitals: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.name = 'InvalidVitalsError';
  }
}

/** A device clock a little ahead is common; beyond this a time "in the future" is refused. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const check = ajv.compile<CartVitals>(schema);

export function parseCartVitals(payload: Buffer | string, expect: { cartId?: string; now?: Date } = {}): CartVitals {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new InvalidVitalsError([`not JSON: ${(err as Error).message}`]);
  }
  if (!check(value)) {
    const problems = (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new InvalidVitalsError([...new Set(problems)]);
  }
  const problems: string[] = [];
  if (expect.cartId !== undefined && value.cart.id !== expect.cartId) {
    problems.push(`/cart/id is ${value.cart.id} but the topic names cart ${expect.cartId}`);
  }
  const latest = (expect.now ?? new Date()).getTime() + FUTURE_TOLERANCE_MS;
  value.measurements.forEach((m, i) => {
    if (Date.parse(m.time) > latest) problems.push(`/measurements/${i}/time ${m.time} is in the future (is the device's clock right?)`);
  });
  if (problems.length > 0) throw new InvalidVitalsError(problems);
  return value;
}
