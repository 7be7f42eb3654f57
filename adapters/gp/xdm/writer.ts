/**
 * Writes an IHE XDM package (IHE_XDM.ZIP): INDEX.HTM and README.TXT at the root, and
 * IHE_XDM/SUBSET01 with METADATA.XML (an ebRIM SubmitObjectsRequest: the submission set, one
 * document entry per document with its hash, size and codes, and the HasMember associations)
 * beside the documents. The zip is made by yazl with every date set to the submission time, so
 * the same package gives the same bytes (a retry sends the same attachment).
 */
import { createHash } from 'node:crypto';
import { ZipFile } from 'yazl';
import { GpFormatError } from '../errors';
import { XmlText } from '../cda/xml';
import { insOf, stableId, type GpReport } from '../report';
import { uuidOid, type CdaOptions, type WrittenCda } from '../cda/writer';
import { DOCUMENT_TITLE } from '../cda/format-details';
import * as F from './format-details';

export interface XdmPerson {
  /** RPPS number. */
  id?: string;
  family: string;
  given?: string;
  prefix?: string;
}

export interface XdmDocument {
  bytes: Buffer;
  /** File extension inside the subset (XML, PDF). */
  extension: string;
  mimeType: string;
  /** The document's own id (the CDA's id root), an OID. */
  uniqueId: string;
  title: string;
  /** The CDA header code, for X-MSS-CODECDA. */
  cdaCode?: string;
  typeCode: F.MetadataCode;
  classCode: F.MetadataCode;
  formatCode: F.MetadataCode;
  confidentialityCode: F.MetadataCode;
  healthcareFacilityTypeCode: F.MetadataCode;
  practiceSettingCode: F.MetadataCode;
  creationTime: string;
  serviceStartTime?: string;
  serviceStopTime?: string;
  languageCode: string;
}

export interface XdmPatient {
  /** The INS (NIR); without it the package cannot name the patient. */
  ins: string;
  family: string;
  given?: string;
  birthDate?: string;
  sex?: string;
}

export interface XdmPackage {
  /** The submission set's id, an OID; stable for the same message. */
  submissionSetId: string;
  /** The sending site's OID. */
  sourceId: string;
  submissionTime: string;
  patient: XdmPatient;
  author: { person: XdmPerson; institution: { name: string; id: string } };
  /** The GP the package goes to, and their mailbox. */
  recipient: { person: XdmPerson; mailbox: string };
  contentTypeCode: F.MetadataCode;
  documents: XdmDocument[];
  /** Text for README.TXT: who sent it, with which product. */
  sender: { name: string; product: string };
}

export interface WrittenXdm {
  bytes: Buffer;
  fileName: string;
  /** The CDA codes it carries, for X-MSS-CODECDA. */
  cdaCodes: string[];
}

/** The document file names in the subset, in order. */
export function documentPaths(pkg: Pick<XdmPackage, 'documents'>): string[] {
  return pkg.documents.map((d, i) => `${F.SUBSET_DIR}/${F.documentFileName(i, d.extension)}`);
}

export function writeXdm(pkg: XdmPackage): Promise<WrittenXdm> {
  if (pkg.documents.length === 0) throw new GpFormatError('an XDM package needs at least one document');
  if (!/^[0-9A-Za-z]{1,32}$/.test(pkg.patient.ins)) throw new GpFormatError('the INS is not an identifier the package can carry (letters and digits)');
  const mtime = new Date(pkg.submissionTime);
  if (Number.isNaN(mtime.getTime())) throw new GpFormatError('the submission time is not a date');
  const paths = documentPaths(pkg);
  const zip = new ZipFile();
  const add = (name: string, bytes: Buffer) => zip.addBuffer(bytes, name, { mtime, mode: 0o100644 });
  add(F.INDEX_FILE, Buffer.from(indexHtm(pkg, paths), 'utf8'));
  add(F.README_FILE, Buffer.from(readmeTxt(pkg, paths), 'utf8'));
  add(F.METADATA_FILE, Buffer.from(metadataXml(pkg, paths), 'utf8'));
  pkg.documents.forEach((d, i) => add(paths[i], d.bytes));
  zip.end();
  return new Promise<WrittenXdm>((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve({
      bytes: Buffer.concat(chunks),
      fileName: F.ARCHIVE_NAME,
      cdaCodes: pkg.documents.map((d) => d.cdaCode).filter((c): c is string => !!c),
    }));
  });
}

export function sha1Hex(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

function metadataXml(pkg: XdmPackage, paths: string[]): string {
  const x = new XmlText();
  const slot = (name: string, ...values: string[]) => x.el('rim:Slot', { name }, x.el('rim:ValueList', {}, ...values.map((v) => x.el('rim:Value', {}, x.text(v)))));
  const localized = (tag: string, text: string) => x.el(tag, {}, x.el('rim:LocalizedString', { charset: 'UTF-8', value: text }));
  let n = 0;
  const nextId = () => `urn:uuid:${stableId(`${pkg.submissionSetId}#${++n}`)}`;
  const classification = (scheme: string, object: string, c: F.MetadataCode) => x.el('rim:Classification', {
    id: nextId(), objectType: F.OBJECT_TYPE.classification, classificationScheme: scheme, classifiedObject: object, nodeRepresentation: c.code,
  }, slot('codingScheme', c.scheme), localized('rim:Name', c.display));
  const external = (scheme: string, object: string, value: string, name: string) => x.el('rim:ExternalIdentifier', {
    id: nextId(), objectType: F.OBJECT_TYPE.externalIdentifier, identificationScheme: scheme, registryObject: object, value,
  }, localized('rim:Name', name));
  const xcn = (p: XdmPerson) => `${p.id ?? ''}^${p.family}^${p.given ?? ''}^^^${p.prefix ?? ''}^^^${p.id ? '&1.2.250.1.71.4.2.1&ISO' : ''}`;
  const xon = (o: { name: string; id: string }) => `${o.name}^^^^^&1.2.250.1.71.4.2.2&ISO^^^^${o.id}`;
  const author = (scheme: string, object: string) => x.el('rim:Classification', {
    id: nextId(), objectType: F.OBJECT_TYPE.classification, classificationScheme: scheme, classifiedObject: object, nodeRepresentation: '',
  }, slot('authorPerson', xcn(pkg.author.person)), slot('authorInstitution', xon(pkg.author.institution)));
  const p = pkg.patient;
  const cx = F.patientCx(p.ins);
  const sourcePatientInfo = [
    `PID-3|${cx}`,
    `PID-5|${p.family}^${p.given ?? ''}^^^^^L`,
    ...(p.birthDate ? [`PID-7|${p.birthDate.replace(/-/g, '')}`] : []),
    ...(p.sex ? [`PID-8|${p.sex}`] : []),
  ];
  const setObject = 'urn:uuid:' + stableId(`${pkg.submissionSetId}#set`);
  const entries = pkg.documents.map((d, i) => {
    const id = 'urn:uuid:' + stableId(`${pkg.submissionSetId}#doc${i}`);
    return {
      id,
      xml: x.el('rim:ExtrinsicObject', { id, mimeType: d.mimeType, objectType: F.OBJECT_TYPE.documentEntry, status: F.STATUS_APPROVED },
        slot('creationTime', F.metadataTime(d.creationTime)),
        slot('hash', sha1Hex(d.bytes)),
        slot('languageCode', d.languageCode),
        d.serviceStartTime ? slot('serviceStartTime', F.metadataTime(d.serviceStartTime)) : undefined,
        d.serviceStopTime ? slot('serviceStopTime', F.metadataTime(d.serviceStopTime)) : undefined,
        slot('size', String(d.bytes.length)),
        slot('sourcePatientId', cx),
        slot('sourcePatientInfo', ...sourcePatientInfo),
        slot('URI', paths[i].slice(F.SUBSET_DIR.length + 1)),
        localized('rim:Name', d.title),
        author(F.DOCUMENT_ENTRY.author, id),
        classification(F.DOCUMENT_ENTRY.classCode, id, d.classCode),
        classification(F.DOCUMENT_ENTRY.confidentialityCode, id, d.confidentialityCode),
        classification(F.DOCUMENT_ENTRY.formatCode, id, d.formatCode),
        classification(F.DOCUMENT_ENTRY.healthcareFacilityTypeCode, id, d.healthcareFacilityTypeCode),
        classification(F.DOCUMENT_ENTRY.practiceSettingCode, id, d.practiceSettingCode),
        classification(F.DOCUMENT_ENTRY.typeCode, id, d.typeCode),
        external(F.DOCUMENT_ENTRY.patientId, id, cx, 'XDSDocumentEntry.patientId'),
        external(F.DOCUMENT_ENTRY.uniqueId, id, d.uniqueId, 'XDSDocumentEntry.uniqueId')),
    };
  });
  const set = x.el('rim:RegistryPackage', { id: setObject, objectType: F.OBJECT_TYPE.registryPackage, status: F.STATUS_APPROVED },
    slot('submissionTime', F.metadataTime(pkg.submissionTime)),
    slot('intendedRecipient', `|${xcn(pkg.recipient.person)}|^^Internet^${pkg.recipient.mailbox}`),
    localized('rim:Name', pkg.documents[0].title),
    author(F.SUBMISSION_SET.author, setObject),
    classification(F.SUBMISSION_SET.contentTypeCode, setObject, pkg.contentTypeCode),
    external(F.SUBMISSION_SET.uniqueId, setObject, pkg.submissionSetId, 'XDSSubmissionSet.uniqueId'),
    external(F.SUBMISSION_SET.sourceId, setObject, pkg.sourceId, 'XDSSubmissionSet.sourceId'),
    external(F.SUBMISSION_SET.patientId, setObject, cx, 'XDSSubmissionSet.patientId'));
  const setClassification = x.el('rim:Classification', { id: nextId(), objectType: F.OBJECT_TYPE.classification, classifiedObject: setObject, classificationNode: F.OBJECT_TYPE.submissionSet });
  const associations = entries.map((e) => x.el('rim:Association', {
    id: nextId(), objectType: F.OBJECT_TYPE.association, associationType: F.HAS_MEMBER, sourceObject: setObject, targetObject: e.id,
  }, slot('SubmissionSetStatus', 'Original')));
  const body = x.el('lcm:SubmitObjectsRequest', { 'xmlns:lcm': F.NS.lcm, 'xmlns:rim': F.NS.rim },
    x.el('rim:RegistryObjectList', {}, ...entries.map((e) => e.xml), set, setClassification, ...associations));
  if (x.replaced > 0) throw new GpFormatError(`the metadata has ${x.replaced} character(s) XML cannot carry`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`;
}

function indexHtm(pkg: XdmPackage, paths: string[]): string {
  const x = new XmlText();
  const rows = pkg.documents.map((d, i) => x.el('li', {}, x.el('a', { href: paths[i] }, x.text(d.title)), x.text(` (${d.mimeType})`)));
  return `<!DOCTYPE html>\n${x.el('html', { lang: 'fr' },
    x.el('head', {}, '<meta charset="utf-8">', x.el('title', {}, 'IHE XDM')),
    x.el('body', {},
      x.el('h1', {}, x.text(`Documents de ${pkg.sender.name}`)),
      x.el('p', {}, x.text(`Envoi ${F.metadataTime(pkg.submissionTime)} UTC, pour ${pkg.recipient.mailbox}.`)),
      x.el('ul', {}, ...rows),
      x.el('p', {}, x.el('a', { href: F.README_FILE }, F.README_FILE))))}\n`;
}

function readmeTxt(pkg: XdmPackage, paths: string[]): string {
  return [
    'IHE XDM (ITI TF-1 §16)',
    `Emetteur : ${pkg.sender.name}`,
    `Logiciel : ${pkg.sender.product}`,
    `Destinataire : ${pkg.recipient.mailbox}`,
    `Metadonnees : ${F.METADATA_FILE}`,
    ...pkg.documents.map((d, i) => `Document : ${paths[i]} (${d.mimeType})`),
    '',
  ].join('\r\n');
}

export interface CrBioPackageOptions {
  organization: CdaOptions['organization'];
  responsible: CdaOptions['responsible'];
  /** The sending product, for README.TXT. */
  product: string;
  now?: Date;
}

/** The XDM package of one CR-BIO document: the report's patient (INS), the site's doctor as author, the GP as recipient. */
export function crBioPackage(report: GpReport, cda: WrittenCda, options: CrBioPackageOptions): XdmPackage {
  const ins = insOf(report.patient);
  if (!ins) throw new GpFormatError('an XDM package names the patient by INS: this patient has none');
  if (!report.gp?.mailbox) throw new GpFormatError('the report has no GP mailbox');
  const person = (p: { id?: string; name?: { family: string; given?: string[]; prefix?: string } }): XdmPerson => ({
    ...(p.id ? { id: p.id } : {}), family: p.name?.family ?? '', ...(p.name?.given?.length ? { given: p.name.given.join(' ') } : {}), ...(p.name?.prefix ? { prefix: p.name.prefix } : {}),
  });
  const patient = report.patient;
  return {
    submissionSetId: uuidOid(stableId(`xdm:${report.documentId}:${report.gp.mailbox}`)),
    sourceId: uuidOid(stableId(`xdm-source:${options.organization.id}`)),
    submissionTime: (options.now ?? new Date(report.reportedAt)).toISOString(),
    patient: {
      ins,
      family: patient.birthName ?? patient.name?.family ?? '',
      ...(patient.name?.given?.length ? { given: patient.name.given[0] } : {}),
      ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
      ...(patient.sex ? { sex: patient.sex } : {}),
    },
    author: { person: person(options.responsible), institution: { name: options.organization.name, id: options.organization.id } },
    recipient: { person: person(report.gp), mailbox: report.gp.mailbox },
    contentTypeCode: F.CR_BIO.contentTypeCode,
    sender: { name: options.organization.name, product: options.product },
    documents: [{
      bytes: cda.bytes,
      extension: 'XML',
      mimeType: F.CR_BIO.mimeType,
      uniqueId: uuidOid(report.documentId),
      title: DOCUMENT_TITLE,
      cdaCode: F.CR_BIO.typeCode.code,
      typeCode: F.CR_BIO.typeCode,
      classCode: F.CR_BIO.classCode,
      formatCode: F.CR_BIO.formatCode,
      confidentialityCode: F.CR_BIO.confidentialityCode,
      healthcareFacilityTypeCode: F.CR_BIO.healthcareFacilityTypeCode,
      practiceSettingCode: F.CR_BIO.practiceSettingCode,
      creationTime: report.reportedAt,
      serviceStartTime: report.collectedAt ?? report.receivedAt,
      serviceStopTime: report.reportedAt,
      languageCode: F.CR_BIO.languageCode,
    }],
  };
}

/** X-MSS-INS: 'O' when the package names the patient by INS with the four identity traits [assumed: an INS is only shared once qualified]. */
export function insQualified(patient: XdmPatient): boolean {
  return !!patient.ins && !!patient.family && !!patient.given && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate ?? '') && (patient.sex === 'F' || patient.sex === 'M');
}
