/**
 * Paths into a message, in the notation of the standard's tables: 'MSH-10', 'PID-5.1',
 * 'OBX[2]-5' (second OBX), 'PID-3[2].4.2' (second repetition, component 4, subcomponent 2).
 * All indexes count from 1; segment occurrence and repetition default to 1.
 */
export interface FieldPath {
  field: number;
  repetition: number;
  component?: number;
  subcomponent?: number;
}

export interface Hl7Path extends FieldPath {
  segment: string;
  occurrence: number;
}

const FIELD_PATH = /^(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?$/;
const SEGMENT_PATH = /^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?-(.+)$/;

export function parseFieldPath(path: string): FieldPath {
  const m = FIELD_PATH.exec(path);
  if (!m) throw new RangeError(`invalid HL7 field path '${path}' (expected e.g. 5, 5.1, 3[2].4.2)`);
  const parsed: FieldPath = {
    field: Number(m[1]),
    repetition: m[2] === undefined ? 1 : Number(m[2]),
    component: m[3] === undefined ? undefined : Number(m[3]),
    subcomponent: m[4] === undefined ? undefined : Number(m[4]),
  };
  if (parsed.field < 1 || parsed.repetition < 1 || parsed.component === 0 || parsed.subcomponent === 0) {
    throw new RangeError(`invalid HL7 field path '${path}': indexes count from 1`);
  }
  return parsed;
}

export function parsePath(path: string): Hl7Path {
  const m = SEGMENT_PATH.exec(path);
  if (!m) throw new RangeError(`invalid HL7 path '${path}' (expected e.g. MSH-10, PID-5.1, OBX[2]-5, PID-3[2].4.2)`);
  const occurrence = m[2] === undefined ? 1 : Number(m[2]);
  if (occurrence < 1) throw new RangeError(`invalid HL7 path '${path}': indexes count from 1`);
  return { segment: m[1], occurrence, ...parseFieldPath(m[3]) };
}
