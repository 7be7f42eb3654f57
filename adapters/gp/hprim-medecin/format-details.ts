import type { ReportSubject } from '../report';

/**
 * HPRIM Médecin (3.0): every line number, width, marker and field position in one place, so a
 * reader of the official specification can correct them here. [confirmed]/[assumed] follow
 * /work/shared/research/gp-messaging.md §2 (the specification itself is not public).
 */

/** The 12 header lines (1-based) [confirmed: MedShake, Médycs, FreeMedForms agree]. */
export const HEADER = {
  patientCode: 1,
  familyName: 2,
  givenName: 3,
  address1: 4,
  address2: 5,
  postcodeCity: 6,
  /** JJ/MM/AAAA */
  birthDate: 7,
  /** 13 digits, a space, the 2-digit key */
  nir: 8,
  fileNumber: 9,
  /** JJ/MM/AAAA */
  examDate: 10,
  /** code (CODE_WIDTH characters, space-padded) then the label */
  sender: 11,
  recipient: 12,
} as const;
export const HEADER_LINES = 12;
/** Sender and recipient codes are 10 characters wide [confirmed: MedShake reads characters 0-9]. */
export const CODE_WIDTH = 10;

/** Block markers [confirmed]. */
export const LAB_START = '****LAB****';
export const LAB_END = '****FIN****';
export const FILE_END = '****FINFICHIER****';

export const FIELD_SEPARATOR = '|';
export const TEXT_RECORD = 'TEX';
export const RESULT_RECORD = 'RES';

/** RES| field positions after splitting on '|' [confirmed from samples and two parsers]. */
export const RES = {
  label: 1,
  code: 2,
  valueType: 3,
  value: 4,
  unit: 5,
  low: 6,
  high: 7,
  flag: 8,
  status: 9,
  value2: 10,
  unit2: 11,
  low2: 12,
  high2: 13,
} as const;
export const RES_FIELD_COUNT = 14;

/** RES value types [confirmed: N numeric, A alphanumeric]. */
export const VALUE_TYPE = { numeric: 'N', text: 'A' } as const;

/**
 * Several abnormality flags in the one RES flag field are joined with this [assumed: the
 * specification's flag list is not public; point-of-care results carry one flag].
 */
export const FLAG_JOINER = ',';
/** '.' as decimal separator [assumed: files in the field use both '.' and ','; readers accept both]. */
export const DECIMAL_SEPARATOR = '.';

/**
 * A RES field is one line without '|': a '|' in the data becomes '¦' (Latin-1 0xA6) and line
 * breaks and control characters become spaces [assumed: HPRIM Médecin has no escape]. The free
 * text above the LAB block keeps the lines as they were.
 */
export const PIPE_SUBSTITUTE = '¦';

/** Lines end with CR LF: the files come from and go to Windows GP software [assumed; readers accept CR, LF, CRLF]. */
export const LINE_END = '\r\n';
/** ISO 8859-1 [confirmed]. Characters outside it are transliterated (text.ts). */
export const CHARSET = 'latin1';
/** File name extension GP-side tools pick up [confirmed: .hpr among .hpm/.hprim]. */
export const FILE_EXTENSION = '.hpr';

/** JJ/MM/AAAA [confirmed]. */
export function formatFrenchDate(year: string, month: string, day: string): string {
  return `${day}/${month}/${year}`;
}

/** Free-text title lines, by what the report is [assumed wording]. */
export const TITLES: Record<ReportSubject, string> = {
  biology: 'COMPTE RENDU DE BIOLOGIE DELOCALISEE',
  teleconsultation: 'COMPTE RENDU DE TELECONSULTATION',
  imaging: "NOTIFICATION D'EXAMEN D'IMAGERIE",
};
/** The text line that says when it was done, by what the report is [assumed wording]. */
export const WHEN_LABELS: Record<ReportSubject, string> = { biology: 'Prélèvement', teleconsultation: 'Téléconsultation', imaging: 'Examen' };
export const CORRECTION_TITLE = 'COMPTE RENDU RECTIFICATIF : ANNULE ET REMPLACE LE PRECEDENT';
