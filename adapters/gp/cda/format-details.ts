/**
 * CDA R2 level 3 "CR-BIO" (CI-SIS, compte rendu d'examens de biologie médicale): every OID,
 * template, code and fixed text in one place. [confirmed] = in the ANS example and schematron
 * CI-SIS_BIO-CR-BIO_2022.01 as quoted by /work/shared/research/gp-messaging.md §4; [assumed] =
 * chosen here, to check against the ANS material before certification.
 */

export const NS = { cda: 'urn:hl7-org:v3', xsi: 'http://www.w3.org/2001/XMLSchema-instance', lab: 'urn:oid:1.3.6.1.4.1.19376.1.3.2' } as const;

export const REALM = 'FR';
export const TYPE_ID = { root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' } as const;
/** HL7 France, CI-SIS, CR-BIO model [confirmed]. */
export const DOCUMENT_TEMPLATES: ReadonlyArray<{ root: string; extension?: string }> = [
  { root: '2.16.840.1.113883.2.8.2.1' },
  { root: '1.2.250.1.213.1.1.1.1' },
  { root: '1.3.6.1.4.1.19376.1.3.3', extension: '2022.01' },
];

export const LOINC = '2.16.840.1.113883.6.1';
export const DOCUMENT_CODE = { code: '11502-2', codeSystem: LOINC, displayName: "CR d'examens biologiques" } as const;
/** The schematron requires this exact title [confirmed]. */
export const DOCUMENT_TITLE = "Compte rendu d'examens biologiques";
export const CONFIDENTIALITY = { code: 'N', codeSystem: '2.16.840.1.113883.5.25' } as const;
export const LANGUAGE = 'fr-FR';

/** INS-NIR, production [confirmed]. */
export const INS_NIR_ROOT = '1.2.250.1.213.1.4.8';
export const GENDER_SYSTEM = '2.16.840.1.113883.5.1';
/** Name qualifiers: birth name, used name [confirmed: BR / SP]. */
export const NAME_QUALIFIER = { birth: 'BR', used: 'SP' } as const;

/** Health professionals: national id = '8' + RPPS under this root [assumed: CI-SIS IdNat_PS convention]. */
export const PS_ROOT = '1.2.250.1.71.4.2.1';
export const RPPS_PREFIX = '8';
/** Organisations: FINESS [assumed]. */
export const FINESS_ROOT = '1.2.250.1.71.4.2.2';

/** The GP: participant INF, functionCode PCP [confirmed]. */
export const GP_PARTICIPANT = { typeCode: 'INF', functionCode: 'PCP', codeSystem: '2.16.840.1.113883.5.88', displayName: 'Médecin traitant' } as const;
/** The prescriber: participant REF [confirmed]. */
export const PRESCRIBER_PARTICIPANT = { typeCode: 'REF' } as const;
/** The sample taker and collection time: participant PRF, functionCode PRELV [confirmed]. */
export const SAMPLER_PARTICIPANT = { typeCode: 'PRF', functionCode: 'PRELV', codeSystem: '1.2.250.1.213.1.1.4.2.280', displayName: 'Préleveur' } as const;
/** Validating authenticator template [confirmed]. */
export const AUTHENTICATOR_TEMPLATE = '1.3.6.1.4.1.19376.1.3.3.1.5';
/** Executing laboratory performer template [confirmed]. */
export const PERFORMER_TEMPLATE = '1.3.6.1.4.1.19376.1.3.3.1.7';
/** Health-care facility of the encounter: SA25 is "laboratoire de biologie médicale" [confirmed code; system OID assumed]. */
export const FACILITY = { code: 'SA25', codeSystem: '1.2.250.1.71.4.2.4', displayName: 'Laboratoire de biologie médicale' } as const;
/** Relation of a correction to the document it replaces [assumed: CDA R2 RPLC]. */
export const REPLACES = 'RPLC';

/** Sections and entries, each with its IHE and ANS template [confirmed]. */
export const CHAPTER_TEMPLATES = ['1.3.6.1.4.1.19376.1.3.3.2.1', '1.2.250.1.213.1.1.2.70'];
export const SUBCHAPTER_TEMPLATES = ['1.3.6.1.4.1.19376.1.3.3.2.2', '1.2.250.1.213.1.1.2.71'];
export const ACT_TEMPLATES = ['1.3.6.1.4.1.19376.1.3.1', '1.2.250.1.213.1.1.3.21'];
export const BATTERY_TEMPLATES = ['1.3.6.1.4.1.19376.1.3.1.4', '1.2.250.1.213.1.1.3.78'];
export const OBSERVATION_TEMPLATES = ['1.3.6.1.4.1.19376.1.3.1.6', '1.2.250.1.213.1.1.3.80'];

/**
 * The chapter of point-of-care biology when the caller gives none [assumed: results do not
 * say their chapter; 18719-5 "Biochimie" is the chapter of the ANS example].
 */
export const DEFAULT_CHAPTER: { code: string; display: string } = { code: '18719-5', display: 'Biochimie' };
/** The battery when the order gives none [assumed]. */
export const DEFAULT_BATTERY_TITLE = 'Biologie délocalisée';

/** Observation interpretation codes: the canonical flags are all in this system [confirmed system]. */
export const INTERPRETATION_SYSTEM = '2.16.840.1.113883.5.83';
export const NORMAL_RANGE_INTERPRETATION = 'N';

/** Code systems of the canonical result → OIDs; other systems get a stable 2.25 OID from their name [assumed]. */
export const CODE_SYSTEMS: Readonly<Record<string, string>> = {
  LN: LOINC, LOINC, SCT: '2.16.840.1.113883.6.96', UCUM: '2.16.840.1.113883.6.8', HL70487: '2.16.840.1.113883.12.487',
};

/** Narrative table columns [assumed wording]. */
export const NARRATIVE_COLUMNS = ['Analyse', 'Résultat', 'Unité', 'Valeurs de référence', 'Interprétation'];
