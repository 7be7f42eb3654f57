/**
 * The companion of a cart's photo or report, passerelle.photo/1 (docs/schema/photo.schema.json):
 * who, which teleconsultation, what was photographed. Validated against the schema (which takes
 * the cart, teleconsultation, patient and operator shapes from the vitals contract), then against
 * what a schema cannot say (the topic's cart, the region's name, a time in the future).
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../docs/schema/photo.schema.json';
import vitalsSchema from '../../docs/schema/vitals.schema.json';
import { FUTURE_TOLERANCE_MS, type CartVitals } from '../vitals/contract';
import regions from './anatomic-regions.json';

export const PHOTO_SCHEMA = 'passerelle.photo/1';
export const PHOTO_CONTENT_TYPE = 'application/vnd.passerelle.photo+json';

export interface CodedRegion {
  code: string;
  system?: 'SCT';
  display: string;
}

export interface PhotoCompanion {
  schema: typeof PHOTO_SCHEMA;
  id: string;
  contentType: 'image/jpeg' | 'application/pdf';
  sha256?: string;
  cart: CartVitals['cart'];
  teleconsultation: CartVitals['teleconsultation'];
  patient: CartVitals['patient'];
  operator?: CartVitals['operator'];
  takenAt?: string;
  device?: { kind?: 'otoscope' | 'dermatoscope' | 'camera' | 'scanner' | 'software'; manufacturer?: string; model?: string; serial?: string; softwareVersion?: string };
  region?: string | CodedRegion;
  laterality?: 'left' | 'right' | 'both';
  description?: string;
}

/** A companion (or its bytes) the hub cannot use: the message names every problem, never the patient. */
export class InvalidPhotoError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid photo: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.name = 'InvalidPhotoError';
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema(vitalsSchema);
const check = ajv.compile<PhotoCompanion>(schema);

export type RegionName = keyof typeof regions.regions;
export const REGION_NAMES = Object.keys(regions.regions) as RegionName[];

export function parsePhotoCompanion(payload: Buffer | string, expect: { cartId?: string; now?: Date } = {}): PhotoCompanion {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new InvalidPhotoError([`the companion is not JSON: ${(err as Error).message}`]);
  }
  if (!check(value)) {
    const problems = (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new InvalidPhotoError([...new Set(problems)]);
  }
  const problems: string[] = [];
  if (expect.cartId !== undefined && value.cart.id !== expect.cartId) problems.push(`/cart/id is ${value.cart.id} but the topic names cart ${expect.cartId}`);
  if (typeof value.region === 'string' && !(value.region in regions.regions)) problems.push(`/region ${value.region} is not in the table (${REGION_NAMES.join(', ')}); give a SNOMED CT code instead`);
  if (value.takenAt && Date.parse(value.takenAt) > (expect.now ?? new Date()).getTime() + FUTURE_TOLERANCE_MS) problems.push(`/takenAt ${value.takenAt} is in the future`);
  if (problems.length > 0) throw new InvalidPhotoError(problems);
  return value;
}
