/**
 * Reads an IHE XDM package back (yauzl): the root files, METADATA.XML (submission set and
 * document entries, by their classification schemes) and each document, whose SHA-1 hash and
 * size are checked against its entry. Written apart from the writer, from format-details only.
 */
import { fromBuffer, type Entry, type ZipFile } from 'yauzl';
import { createHash } from 'node:crypto';
import { parseXml, type XmlElement } from '../../poct1a/xml';
import { GpReadError } from '../errors';
import * as F from './format-details';

export interface ReadCode {
  code: string;
  scheme?: string;
  display?: string;
}

export interface ReadDocumentEntry {
  id: string;
  mimeType?: string;
  uri?: string;
  uniqueId?: string;
  patientId?: string;
  hash?: string;
  size?: string;
  creationTime?: string;
  sourcePatientInfo: string[];
  authorPerson?: string;
  authorInstitution?: string;
  classCode?: ReadCode;
  typeCode?: ReadCode;
  formatCode?: ReadCode;
  confidentialityCode?: ReadCode;
  title?: string;
  /** The document's bytes from the subset. */
  bytes: Buffer;
}

export interface ReadXdm {
  files: string[];
  index: string;
  readme: string;
  submissionSet: { uniqueId?: string; sourceId?: string; patientId?: string; submissionTime?: string; intendedRecipient?: string; contentTypeCode?: ReadCode };
  documents: ReadDocumentEntry[];
}

const MAX_FILES = 64;
const MAX_BYTES = 64 * 1024 * 1024;

export async function readXdm(bytes: Buffer): Promise<ReadXdm> {
  const files = await unzip(bytes);
  const text = (name: string) => {
    const file = files.get(name);
    if (!file) throw new GpReadError(`the package has no ${name}`);
    return file.toString('utf8');
  };
  const index = text(F.INDEX_FILE);
  const readme = text(F.README_FILE);
  let root: XmlElement;
  try {
    root = parseXml(text(F.METADATA_FILE));
  } catch (err) {
    if (err instanceof GpReadError) throw err;
    throw new GpReadError(`${F.METADATA_FILE} is not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (local(root.name) !== 'SubmitObjectsRequest') throw new GpReadError(`${F.METADATA_FILE} is not a SubmitObjectsRequest`);
  const list = root.children.find((c) => local(c.name) === 'RegistryObjectList');
  if (!list) throw new GpReadError(`${F.METADATA_FILE} has no RegistryObjectList`);
  const objects = list.children;
  const pkg = objects.find((o) => local(o.name) === 'RegistryPackage');
  if (!pkg) throw new GpReadError(`${F.METADATA_FILE} has no submission set`);
  const submissionSet: ReadXdm['submissionSet'] = {
    uniqueId: externalId(pkg, F.SUBMISSION_SET.uniqueId),
    sourceId: externalId(pkg, F.SUBMISSION_SET.sourceId),
    patientId: externalId(pkg, F.SUBMISSION_SET.patientId),
    submissionTime: slots(pkg, 'submissionTime')[0],
    intendedRecipient: slots(pkg, 'intendedRecipient')[0],
    contentTypeCode: coded(pkg, F.SUBMISSION_SET.contentTypeCode),
  };
  const documents = objects.filter((o) => local(o.name) === 'ExtrinsicObject').map((o, i): ReadDocumentEntry => {
    const uri = slots(o, 'URI')[0];
    if (!uri) throw new GpReadError(`document entry ${i + 1} has no URI`);
    const file = files.get(`${F.SUBSET_DIR}/${uri}`);
    if (!file) throw new GpReadError(`document entry ${i + 1} names ${uri}, which is not in ${F.SUBSET_DIR}`);
    const hash = slots(o, 'hash')[0];
    const size = slots(o, 'size')[0];
    if (hash !== createHash('sha1').update(file).digest('hex')) throw new GpReadError(`document entry ${i + 1}: the hash does not match ${uri}`);
    if (size !== String(file.length)) throw new GpReadError(`document entry ${i + 1}: the size does not match ${uri}`);
    const author = o.children.find((c) => local(c.name) === 'Classification' && c.attributes.classificationScheme === F.DOCUMENT_ENTRY.author);
    const entry: ReadDocumentEntry = {
      id: o.attributes.id ?? '',
      mimeType: o.attributes.mimeType,
      uri,
      uniqueId: externalId(o, F.DOCUMENT_ENTRY.uniqueId),
      patientId: externalId(o, F.DOCUMENT_ENTRY.patientId),
      hash,
      size,
      creationTime: slots(o, 'creationTime')[0],
      sourcePatientInfo: slots(o, 'sourcePatientInfo'),
      authorPerson: author ? slots(author, 'authorPerson')[0] : undefined,
      authorInstitution: author ? slots(author, 'authorInstitution')[0] : undefined,
      classCode: coded(o, F.DOCUMENT_ENTRY.classCode),
      typeCode: coded(o, F.DOCUMENT_ENTRY.typeCode),
      formatCode: coded(o, F.DOCUMENT_ENTRY.formatCode),
      confidentialityCode: coded(o, F.DOCUMENT_ENTRY.confidentialityCode),
      title: nameOf(o),
      bytes: file,
    };
    return entry;
  });
  if (documents.length === 0) throw new GpReadError(`${F.METADATA_FILE} has no document entry`);
  return { files: [...files.keys()], index, readme, submissionSet, documents };
}

function local(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

function slots(object: XmlElement, name: string): string[] {
  const slot = object.children.find((c) => local(c.name) === 'Slot' && c.attributes.name === name);
  const values = slot?.children.find((c) => local(c.name) === 'ValueList')?.children ?? [];
  return values.filter((v) => local(v.name) === 'Value').map((v) => v.text);
}

function nameOf(object: XmlElement): string | undefined {
  return object.children.find((c) => local(c.name) === 'Name')?.children.find((c) => local(c.name) === 'LocalizedString')?.attributes.value;
}

function externalId(object: XmlElement, scheme: string): string | undefined {
  return object.children.find((c) => local(c.name) === 'ExternalIdentifier' && c.attributes.identificationScheme === scheme)?.attributes.value;
}

function coded(object: XmlElement, scheme: string): ReadCode | undefined {
  const c = object.children.find((e) => local(e.name) === 'Classification' && e.attributes.classificationScheme === scheme);
  if (!c) return undefined;
  const code: ReadCode = { code: c.attributes.nodeRepresentation ?? '' };
  const system = slots(c, 'codingScheme')[0];
  if (system !== undefined) code.scheme = system;
  const display = nameOf(c);
  if (display !== undefined) code.display = display;
  return code;
}

/** Every file of the archive by name; a damaged or oversized archive is a GpReadError. */
function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(err instanceof GpReadError ? err : new GpReadError(`not a readable zip archive: ${(err as Error)?.message ?? String(err)}`));
    fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (err, zip?: ZipFile) => {
      if (err || !zip) return fail(err);
      const files = new Map<string, Buffer>();
      let total = 0;
      zip.on('error', fail);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: Entry) => {
        if (files.size >= MAX_FILES) return fail(new GpReadError(`the archive has more than ${MAX_FILES} files`));
        total += entry.uncompressedSize;
        if (total > MAX_BYTES) return fail(new GpReadError(`the archive holds more than ${MAX_BYTES} bytes`));
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) return fail(streamErr);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', fail);
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
