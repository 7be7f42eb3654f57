/**
 * A device profile: everything that differs between device models, as data. Where the specimen id
 * lives, which patient fields carry identifiers, which component of R.3 is the test code, how
 * values are written, the device's time zone, what its status letters mean, and the table from
 * its test codes to LOINC and UCUM. A new model is a new JSON file, not new code.
 *
 * Field numbers count the record type letter as field 1 (O.3 is the specimen id); components and
 * repeats count from 1.
 */
import type { ObservationStatus } from '../../model';
import type { LinkSettings } from '../link/settings';

/** A place in a record: field, component, repeat (all 1-based). */
export interface FieldRef {
  field: number;
  component?: number;
  repeat?: number;
}

export interface IdentifierRef extends FieldRef {
  /** HL7 table 0203 type given to identifiers found here (PI, ...). */
  type?: string;
  /** Assigning authority of identifiers found here, when the site knows it. */
  authority?: string;
}

/** Where the parts of P.6 (last^first^middle^suffix^title in E1394) sit for this device. */
export interface NameLayout {
  field: number;
  family: number;
  given: number[];
  prefix?: number;
}

export interface TestMapping {
  /** LOINC code; the loader checks its check digit. */
  loinc?: string;
  display?: string;
  /** The UCUM unit this mapping is for. A value sent in another unit is left unmapped. */
  unit?: string;
  /** Device unit texts that mean `unit` (e.g. `10E3/uL`, or a unit-system number the site knows). */
  deviceUnits?: string[];
}

export interface DeviceProfile {
  id: string;
  manufacturer: string;
  model: string;
  description?: string;
  notes?: string[];
  /** Recognising the device from its header: a case-insensitive regular expression on H.5 (sender) as text. */
  detect?: { sender: string };
  /** Text encoding of the device: ISO 8859-1 by default (E1394). */
  charset: 'latin1' | 'utf8';
  /** Link-layer settings for this device (timers, frame size, frame numbering). */
  link: Partial<LinkSettings>;
  /** Components of H.5 holding the software version and the serial number (none when absent). */
  sender: { version?: number; serial?: number };
  /** Where the specimen id lives in the O record: the first non-empty place wins, trimmed. */
  specimenId: FieldRef[];
  patient: {
    /** P fields carrying patient identifiers; every non-empty one is kept. */
    identifiers: IdentifierRef[];
    name?: NameLayout;
    birthDate?: FieldRef;
    sex?: FieldRef;
  };
  /** The test code in R.3: these components, non-empty ones joined with `separator`. */
  testCode: { components: number[]; separator: string; nameComponent?: number };
  /** Which part of R.4 is the value: one component, the first non-empty one, or all (joined, trailing empty ones dropped). */
  value: { component: number | 'first-non-empty' | 'all' };
  /** Decimal comma (`7,41`). */
  decimalComma: boolean;
  /** IANA time zone of the device's clock, for dates without an offset. */
  timeZone: string;
  /** Layout of the device's dates: E1394's `YYYYMMDDHHmmss` (shorter prefixes and ±HHMM read too), or its own with YYYY MM DD HH mm ss. */
  dateFormat: string;
  /** R.9 result status letters → HL7 table 0085 (merged over the E1394 defaults). */
  status: Record<string, ObservationStatus>;
  /** Status when neither R.9 nor O.26 says. */
  statusWhenAbsent: ObservationStatus;
  /** What marks a quality-control result: H.12 processing ids, O.12 action codes, O.16 specimen types. */
  qualityControl: { processingIds: string[]; actionCodes: string[]; specimenTypes: string[] };
  /** H.12 processing ids whose results are never mapped (training, debugging). */
  skipProcessingIds: string[];
  /** Coding system name for the device's own codes (HL7 local systems start with 99). */
  codeSystem?: string;
  /** Device unit texts → UCUM, over the built-in table of common spellings. */
  units: Record<string, string>;
  /** Device test code → LOINC / display / UCUM. Codes not listed pass through unmapped. */
  tests: Record<string, TestMapping>;
}

/** ASTM R.9 result status → HL7 0085. Anything not plainly final is preliminary: a record can be completed, not un-finalised. */
export const DEFAULT_STATUS_MAP: Readonly<Record<string, ObservationStatus>> = Object.freeze({
  F: 'F', V: 'F', C: 'C', P: 'P', X: 'X', I: 'I', S: 'P', R: 'P', M: 'P', N: 'P', Q: 'P', W: 'P',
});

/** What a profile JSON file may leave out, and what it then means. */
export const PROFILE_DEFAULTS = {
  charset: 'latin1',
  link: {},
  sender: { version: 2, serial: 3 },
  specimenId: [{ field: 3, component: 1 }, { field: 4, component: 1 }],
  patient: {
    identifiers: [{ field: 3 }, { field: 4 }, { field: 5 }],
    name: { field: 6, family: 1, given: [2, 3], prefix: 5 },
    birthDate: { field: 8 },
    sex: { field: 9 },
  },
  testCode: { components: [4], separator: '^' },
  value: { component: 'all' },
  decimalComma: false,
  timeZone: 'Europe/Paris',
  dateFormat: 'YYYYMMDDHHmmss',
  status: {},
  statusWhenAbsent: 'P',
  qualityControl: { processingIds: ['Q'], actionCodes: ['Q'], specimenTypes: [] },
  skipProcessingIds: ['T', 'D'],
  units: {},
  tests: {},
} as const satisfies Omit<DeviceProfile, 'id' | 'manufacturer' | 'model'>;
