/**
 * Who is the patient's GP, as the record's messages say it (docs/gp.md). HL7 v2.5 carries the
 * primary care provider in PD1-4 (deprecated since 2.7 in favour of ROL) and in ROL segments
 * whose role (ROL-3) says "primary care provider". The order's ordering doctor (ORC-12, OBR-16)
 * and the visit's referring doctor (PV1-8) are read only when asked: at an immediate-care centre
 * they are usually the centre's own doctor, not the GP.
 */
import type { GeneralPractitioner, PersonName } from '../model';
import type { Hl7Message, Hl7Segment } from './message';

/** The RPPS assigning authority (ANS), as French messages give it in XCN-9.2. */
export const RPPS_OID = '1.2.250.1.71.4.2.1';

/**
 * ROL-3 codes that name the GP, best first. PP and FHCP are HL7 table 0443; ODRP ("officially
 * declared referring physician", the médecin traitant declared to the health insurance) is the
 * IHE PAM France extension, written from memory of that profile: unverified (docs/gp.md).
 */
export const GP_ROLE_CODES = ['ODRP', 'PP', 'FHCP'] as const;

export type GpFallback = 'ORC-12' | 'OBR-16' | 'PV1-8';

export interface GpExtractOptions {
  /** Fields read when neither ROL nor PD1-4 names a GP, in order. Default: none. */
  fallback?: GpFallback[];
}

/** The GP the message names, with `from` saying where, or undefined when it names none. */
export function gpOf(message: Hl7Message, options: GpExtractOptions = {}): GeneralPractitioner | undefined {
  for (const role of GP_ROLE_CODES) {
    for (const rol of message.segments('ROL')) {
      if (rol.get('2') === 'DE') continue; // action code "delete": this role no longer holds
      if (rol.get('3.1')?.trim().toUpperCase() !== role) continue;
      const gp = providerAt(rol, 4, 'ROL');
      if (gp) return gp;
    }
  }
  const pd1 = message.segment('PD1');
  const fromPd1 = pd1 && providerAt(pd1, 4, 'PD1-4');
  if (fromPd1) return fromPd1;
  for (const field of options.fallback ?? []) {
    const [name, position] = field.split('-');
    const segment = message.segment(name);
    const gp = segment && providerAt(segment, Number(position), field);
    if (gp) return gp;
  }
  return undefined;
}

/** The first repetition of an XCN field that has an id or a family name. */
function providerAt(segment: Hl7Segment, field: number, from: string): GeneralPractitioner | undefined {
  for (let r = 1; r <= segment.repetitions(field); r++) {
    const at = (path: string) => text(segment.get(`${field}[${r}].${path}`));
    const id = at('1');
    const family = at('2.1');
    if (!id && !family) continue;
    const gp: GeneralPractitioner = { from };
    if (id) {
      gp.id = id;
      const oid = at('9.2');
      const authority = at('13') ?? (oid === RPPS_OID ? 'RPPS' : at('9.1'));
      if (authority) gp.authority = authority;
    }
    if (family) {
      const name: PersonName = { family };
      const given = [at('3'), ...(at('4')?.split(' ') ?? [])].filter((g): g is string => !!g);
      if (given.length > 0) name.given = given;
      const prefix = at('6');
      if (prefix) name.prefix = prefix;
      gp.name = name;
    }
    return gp;
  }
  return undefined;
}

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
