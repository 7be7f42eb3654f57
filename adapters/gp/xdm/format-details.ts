/**
 * IHE XDM (ITI TF-1 §16, email use ITI TF-2x Appendix T) as MSSanté carries it, and the MSSanté
 * mail headers: every file name, namespace, scheme UUID, code and header in one place, so a reader
 * of the official texts corrects them here and the writer, the reader and the mail follow.
 * [confirmed] = in a source cited by /work/shared/research/gp-messaging.md §3; [inferred] = from
 * the IHE structure as the notes describe it; [assumed] = chosen or remembered here, to check
 * against IHE ITI TF-3 §4.2 and the CI-SIS "Partage de documents de santé" before certification.
 */

/** The attachment's name [confirmed: §3.3]. */
export const ARCHIVE_NAME = 'IHE_XDM.ZIP';
export const ARCHIVE_MIME_TYPE = 'application/zip';
/** Root files [confirmed: §3.3, "Testing your XDM implementation"]. */
export const INDEX_FILE = 'INDEX.HTM';
export const README_FILE = 'README.TXT';
/** One folder per submission set [inferred: §3.3, names from the IHE TF, unverified there]. */
export const SUBSET_DIR = 'IHE_XDM/SUBSET01';
export const METADATA_FILE = `${SUBSET_DIR}/METADATA.XML`;
/** Document files in the subset: DOC0001.XML, DOC0002.PDF… [inferred: §3.3]. */
export function documentFileName(index: number, extension: string): string {
  return `DOC${String(index + 1).padStart(4, '0')}.${extension.toUpperCase()}`;
}

/** ebRIM 3.0 / ebRS 3.0 namespaces of SubmitObjectsRequest [assumed: IHE ITI TF-3 §4.2.1, from memory]. */
export const NS = {
  lcm: 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0',
  rim: 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0',
} as const;

/** Object types and classification schemes [assumed: IHE ITI TF-3 §4.2.5, remembered, check every UUID]. */
export const OBJECT_TYPE = {
  documentEntry: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1',
  submissionSet: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
  classification: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification',
  externalIdentifier: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier',
  association: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association',
  registryPackage: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage',
} as const;
export const STATUS_APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';
export const HAS_MEMBER = 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember';

export const DOCUMENT_ENTRY = {
  author: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d',
  classCode: 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a',
  confidentialityCode: 'urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f',
  formatCode: 'urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d',
  healthcareFacilityTypeCode: 'urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1',
  practiceSettingCode: 'urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead',
  typeCode: 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983',
  patientId: 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
  uniqueId: 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab',
} as const;
export const SUBMISSION_SET = {
  author: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d',
  contentTypeCode: 'urn:uuid:aa543740-bdda-424e-8c96-df4873be8500',
  patientId: 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446',
  sourceId: 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832',
  uniqueId: 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8',
} as const;

/** A coded value of the metadata: code, its scheme (the code system OID) and its display. */
export interface MetadataCode {
  code: string;
  scheme: string;
  display: string;
}

/** The CR-BIO document entry's codes [assumed: CI-SIS value sets, not in the research notes — §3.3 says "unverified values"]. */
export const CR_BIO = {
  /** typeCode: the CDA's own LOINC code [confirmed: §4.1, the document code]. */
  typeCode: { code: '11502-2', scheme: '2.16.840.1.113883.6.1', display: "CR d'examens biologiques" },
  /** classCode: ASIP "Compte rendu" [assumed]. */
  classCode: { code: '11', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' },
  /** formatCode: IHE XD-LAB [assumed: the CR-BIO is built on IHE XD-LAB (template 1.3.6.1.4.1.19376.1.3.3)]. */
  formatCode: { code: 'urn:ihe:lab:xd-lab:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'CR de biologie' },
  confidentialityCode: { code: 'N', scheme: '2.16.840.1.113883.5.25', display: 'Normal' },
  /** The facility and practice setting [assumed: SA25 as in the CDA; "ETABLISSEMENT"-style codes not known here]. */
  healthcareFacilityTypeCode: { code: 'SA25', scheme: '1.2.250.1.71.4.2.4', display: 'Laboratoire de biologie médicale' },
  practiceSettingCode: { code: 'ETABLISSEMENT', scheme: '1.2.250.1.213.1.1.4.9', display: 'Etablissement de santé' },
  /** The submission set's content type [assumed]. */
  contentTypeCode: { code: '11502-2', scheme: '2.16.840.1.113883.6.1', display: "CR d'examens biologiques" },
  mimeType: 'text/xml',
  languageCode: 'fr-FR',
} as const satisfies Record<string, MetadataCode | string>;

/** The patient id as an XDS CX: INS^^^&OID&ISO^NH [assumed: CX per ITI TF-3 §4.2.3.1.7, NH per CI-SIS INS]. */
export const INS_ROOT = '1.2.250.1.213.1.4.8';
export function patientCx(ins: string): string {
  return `${ins}^^^&${INS_ROOT}&ISO^NH`;
}

/** Times in metadata: UTC, YYYYMMDDHHMMSS [assumed: DTM per ITI TF-3 §4.2.3.1.5]. */
export function metadataTime(instant: string | Date): string {
  return new Date(instant).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** MSSanté mail headers [confirmed: §3.2, Ref#2 ECO.2.4.x]. */
export const HEADER = {
  /** The CDA header code of each CDA inside the XDM, comma-separated; only when an XDM is attached. */
  codeCda: 'X-MSS-CODECDA',
  /** 'O' when the XDM holds a qualified INS, else 'N'; only when an XDM is attached. */
  ins: 'X-MSS-INS',
  /** On every message: the product reference from the Convergence declaration. */
  nil: 'X-MSS-NIL',
} as const;
export const INS_QUALIFIED = 'O';
export const INS_NOT_QUALIFIED = 'N';
/** Until the product is declared on convergence.esante.gouv.fr [assumed: a placeholder the site replaces]. */
export const DEFAULT_NIL = 'PASSERELLE-NON-DECLARE';

/** HPRIM files as attachments: ISO 8859-1 text [confirmed: §1.9, MedShake sends iso-8859-1]. */
export const HPRIM_MIME_TYPE = 'text/plain; charset=ISO-8859-1';
export const PDF_MIME_TYPE = 'application/pdf';
