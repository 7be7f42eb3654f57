/**
 * HPRIM Santé 2.2: every record letter, field position, limit and code in one place, so a reader
 * of the official specification can correct them here. [confirmed]/[inferred]/[assumed] follow
 * /work/shared/research/gp-messaging.md §1 (the specification itself is not public).
 */

/** The header's delimiter field, in order: field, component, repetition, escape, sub-component [confirmed]. */
export const DELIMITERS = { field: '|', component: '~', repetition: '^', escape: '\\', subcomponent: '&' } as const;
export type HprimDelimiters = { field: string; component: string; repetition: string; escape: string; subcomponent: string };

export const RECORD = { header: 'H', patient: 'P', request: 'OBR', result: 'OBX', comment: 'C', continuation: 'A', end: 'L' } as const;

/** H record, index after splitting on the field separator ([0] = 'H') [confirmed: libHprim grammar]. */
export const H = { delimiters: 1, fileName: 2, password: 3, sender: 4, senderAddress: 5, messageType: 6, senderPhone: 7, characteristics: 8, receiver: 9, comment: 10, processingId: 11, version: 12, dateTime: 13 } as const;
export const H_FILE_NAME_MAX = 12;
/** H.5 sender `code~name`: 15 characters in all [confirmed: libHprim regex]. */
export const H_SENDER_MAX = 15;
/** H.10 receiver `code~name`: 40 characters in all [confirmed]. */
export const H_RECEIVER_MAX = 40;
export const MESSAGE_TYPE_RESULTS = 'ORU';
export const PROCESSING_PRODUCTION = 'P';
/** H.13 version, `H2.2~C` [confirmed; the meaning of C is unverified]. */
export const VERSION = ['H2.2', 'C'];

/** P record [inferred from samples + the ASTM P record]. */
export const P = { sequence: 1, practiceId: 2, labId: 3, thirdId: 4, name: 5, birthName: 6, birthDate: 7, sex: 8, attendingPhysician: 13 } as const;

/** OBR record [inferred from samples + the ASTM O record]. */
export const OBR = { sequence: 1, specimenId: 2, fillerNumber: 3, battery: 4, priority: 5, collectedAt: 7, actionCode: 11, receivedAt: 14, prescriber: 16, reportedAt: 22, reportStatus: 25 } as const;
export const PRIORITY = { routine: 'R', urgent: 'S', stat: 'S' } as const;
export const ACTION_NEW = 'N';
/** OBR-25 report status: F final, C correction [inferred]. */
export const REPORT_STATUS = { final: 'F', correction: 'C' } as const;

/** OBX record [inferred; field order matches ASTM R / HL7 OBX]. */
export const OBX = { sequence: 1, valueType: 2, analysis: 3, value: 5, unit: 6, range: 7, flag: 8, status: 11, observedAt: 14 } as const;
/** Canonical value type → OBX-2 [NM confirmed; ST, TX, CE unverified]. A comparator (`<5`) is a string. */
export const VALUE_TYPE = { NM: 'NM', SN: 'ST', ST: 'ST', TX: 'TX', CWE: 'CE' } as const;
/** Coding system of the analysis code: LOINC, or L for the lab's own [inferred: `L` in samples]. */
export const CODING_LOINC = 'LN';
export const CODING_LOCAL = 'L';
/** OBX-7 reference range: `low - high`, a side left empty when open [inferred: `7 - 5.7` in samples]. */
export const RANGE_JOINER = ' - ';

/** C record: `C|seq|source|text|type` [inferred]; source L (lab), type G (generic). */
export const C = { sequence: 1, source: 2, text: 3, type: 4 } as const;
export const COMMENT_SOURCE = 'L';
export const COMMENT_TYPE = 'G';

export const L = { sequence: 1 } as const;

/**
 * Longest record written; longer records go on in `A|` lines [the 220 figure is widely cited,
 * unverified]. Readers accept any length.
 */
export const MAX_RECORD_LENGTH = 220;

/** Records end with CR [confirmed]; readers accept CR, LF and CRLF. */
export const RECORD_END = '\r';
/** ISO 8859-1 [confirmed]. */
export const CHARSET = 'latin1';
export const FILE_EXTENSION = '.HPR';

/**
 * Escape sequences, HL7 style [unverified: the escape character `\` is confirmed, the sequences
 * are not]. The letter names the delimiter by role; `.br` is a line break.
 */
export const ESCAPE = { field: 'F', component: 'S', repetition: 'R', escape: 'E', subcomponent: 'T', lineBreak: '.br' } as const;

/** Date-times: YYYYMMDDHHMMSS, the site's local wall time without offset [confirmed: 6, 8, 12 or 14 digits]. */
export const DATE_TIME_DIGITS = 14;
