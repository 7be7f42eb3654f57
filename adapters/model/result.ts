/**
 * The canonical result, version 1: the one shape every Passerelle node reads and writes.
 * The JSON Schema in docs/schema/result.schema.json is the contract; these types mirror it
 * (test/model checks the example against both). See docs/canonical-result.md.
 */

export const RESULT_SCHEMA = 'passerelle.result/1';

export type ResultKind = 'biology' | 'imaging' | 'vitals';
export type ResultStatus = 'final' | 'preliminary' | 'corrected' | 'cancelled';
/** HL7 table 0085. */
export type ObservationStatus = 'F' | 'P' | 'C' | 'X' | 'I' | 'R';
export type AbnormalFlag = 'L' | 'H' | 'LL' | 'HH' | '<' | '>' | 'N' | 'A' | 'AA' | 'U' | 'D' | 'B' | 'W';

export interface Code {
  code: string;
  /** LN (LOINC), UCUM, SCT, MDC, or the device's own system (99xxx). */
  system?: string;
  display?: string;
}

export interface PersonName {
  family: string;
  given?: string[];
  prefix?: string;
}

export interface Provider {
  id?: string;
  authority?: string;
  name?: PersonName;
}

export interface PatientIdentifier {
  value: string;
  type?: string;
  authority?: string;
  authorityName?: string;
}

/** A format the GP's software imports (docs/gp.md). */
export type GpFormat = 'hprim-medecin' | 'hprim-sante' | 'cda-crbio' | 'pdf';
export const GP_FORMATS: readonly GpFormat[] = ['hprim-medecin', 'hprim-sante', 'cda-crbio', 'pdf'];

/** The patient's GP (médecin traitant), added in 1.1 (docs/canonical-result.md). */
export interface GeneralPractitioner extends Provider {
  /** Secure health messaging (MSSanté) mailbox. */
  mailbox?: string;
  /** What the GP's software imports, in order of preference. */
  formats?: GpFormat[];
  /** Where the hub learned who the GP is: PD1-4, ROL, ORC-12, OBR-16, PV1-8, directory. */
  from?: string;
}

export interface Patient {
  identifiers: PatientIdentifier[];
  name?: PersonName;
  birthName?: string;
  /** YYYY, YYYY-MM or YYYY-MM-DD. */
  birthDate?: string;
  sex?: 'F' | 'M' | 'O' | 'U';
  /** False: the result must not reach a record until a person assigns it. */
  matched: boolean;
  matchedBy?: 'device' | 'order' | 'manual';
  gp?: GeneralPractitioner;
}

export interface Source {
  site: string;
  deviceClass: string;
  deviceId: string;
  manufacturer?: string;
  model?: string;
  serial?: string;
  softwareVersion?: string;
  protocol?: string;
}

export interface StructuredNumeric {
  comparator: '<' | '>' | '<=' | '>=' | '=';
  number: number;
}

export type ObservationValue = number | string | Code | StructuredNumeric;

/** IEEE 11073 MDC coding of a device observation (vitals): what PCD-01 writes in OBX-3 and OBX-6. */
export interface MdcCoding {
  code: Code;
  unit?: Code;
}

/** The device that measured one observation (a cart holds several). */
export interface ObservingDevice {
  manufacturer?: string;
  model?: string;
  serial?: string;
  /** IEEE EUI-64, 16 upper-case hexadecimal digits (PCD-01 OBX-18). */
  eui64?: string;
}

export interface Observation {
  code?: Code;
  deviceCode: Code;
  valueType: 'NM' | 'SN' | 'ST' | 'TX' | 'CWE';
  value?: ObservationValue;
  unit?: Code;
  referenceRange?: { low?: number; high?: number; text?: string };
  flags?: AbnormalFlag[];
  status: ObservationStatus;
  observedAt?: string;
  method?: Code;
  operator?: { id?: string; name?: string };
  equipmentId?: string;
  unmapped?: boolean;
  comment?: string;
  /** Added in 1.1 for vitals: the MDC coding, where on the body, the device, what the hub noticed. */
  mdc?: MdcCoding;
  bodySite?: Code;
  device?: ObservingDevice;
  /** Kept and said, never fixed: out of physiological bounds, unknown unit, converted from... */
  warnings?: string[];
}

export interface ResultTimes {
  ordered?: string;
  collected?: string;
  analysed?: string;
  received: string;
}

export interface Result {
  schema: typeof RESULT_SCHEMA;
  id: string;
  kind: ResultKind;
  status: ResultStatus;
  replaces?: string;
  source: Source;
  patient?: Patient;
  specimen?: { id?: string; type?: Code; collectedAt?: string };
  order?: {
    placerNumber?: string;
    fillerNumber?: string;
    accessionNumber?: string;
    code?: Code;
    priority?: 'routine' | 'urgent' | 'stat';
    orderingProvider?: Provider;
  };
  observations: Observation[];
  times: ResultTimes;
  /** Added in 1.1: the visit or teleconsultation the result belongs to (PV1-19, PV1-3). */
  encounter?: { id?: string; location?: string };
  raw?: { journalId?: string; sha256?: string };
}
