/**
 * A cart's photo or report as a DICOM object of the teleconsultation's study:
 * - a baseline JPEG (otoscope, camera) → VL Photographic Image (modality XC), the JPEG kept byte
 *   for byte as the one fragment of encapsulated pixel data (JPEG Baseline transfer syntax);
 * - a dermatoscope's JPEG → Dermoscopic Photography (modality DMS) where the PACS takes it, else
 *   VL Photographic (XC) with "Dermoscopie" in the series description;
 * - a PDF → Encapsulated PDF (modality DOC).
 * UIDs are derived from names (uids.ts nameUid): the study from the site and the teleconsultation,
 * the series from the study and the device, the instance from the companion's id. Text is UTF-8
 * (ISO_IR 192); dates and times are the site's wall time with (0008,0201).
 */
import { formatOffset, offsetForWallTime } from '../common/time-zone';
import { INS_OIDS } from '../vitals/result';
import { dataset, element, encapsulatedPixelData, sequence, text, uint16, uint32, type Element } from './dataset-writer';
import { readJpeg, type JpegInfo } from './jpeg';
import { InvalidPhotoError, type CodedRegion, type PhotoCompanion, type RegionName } from './photo-contract';
import regions from './anatomic-regions.json';
import { EXPLICIT_VR_LITTLE_ENDIAN, nameUid } from './uids';

export const VL_PHOTOGRAPHIC = '1.2.840.10008.5.1.4.1.1.77.1.4';
export const DERMOSCOPIC_PHOTOGRAPHY = '1.2.840.10008.5.1.4.1.1.77.1.7';
export const ENCAPSULATED_PDF = '1.2.840.10008.5.1.4.1.1.104.1';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

export interface PhotoOptions {
  site: string;
  timeZone: string;
  /** Dermoscopy as Dermoscopic Photography (DMS) — only where the PACS accepts that class — or XC. */
  dermoscopy: 'DMS' | 'XC';
  /** When the hub received it: the time of a photo without takenAt. */
  receivedAt: Date;
}

export interface BuiltObject {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The dataset (no Part 10 header: part10.ts writes it). */
  dataset: Buffer;
  jpeg?: JpegInfo;
}

/** Series numbers by kind, so a viewer lists photos, dermoscopy and documents apart. */
const SERIES_NUMBER = { photo: '1', dermoscopy: '2', document: '3' } as const;

const T = {
  SpecificCharacterSet: 0x00080005, ImageType: 0x00080008, InstanceCreationDate: 0x00080012, InstanceCreationTime: 0x00080013,
  SOPClassUID: 0x00080016, SOPInstanceUID: 0x00080018, StudyDate: 0x00080020, SeriesDate: 0x00080021, ContentDate: 0x00080023,
  AcquisitionDateTime: 0x0008002a, StudyTime: 0x00080030, SeriesTime: 0x00080031, ContentTime: 0x00080033, AccessionNumber: 0x00080050,
  Modality: 0x00080060, ConversionType: 0x00080064, Manufacturer: 0x00080070, ReferringPhysicianName: 0x00080090,
  CodeValue: 0x00080100, CodingSchemeDesignator: 0x00080102, CodeMeaning: 0x00080104, TimezoneOffsetFromUTC: 0x00080201,
  StationName: 0x00081010, StudyDescription: 0x00081030, SeriesDescription: 0x0008103e, OperatorsName: 0x00081070,
  ManufacturerModelName: 0x00081090, AnatomicRegionSequence: 0x00082218, AnatomicRegionModifierSequence: 0x00082220,
  PatientName: 0x00100010, PatientID: 0x00100020, IssuerOfPatientID: 0x00100021, TypeOfPatientID: 0x00100022,
  PatientBirthDate: 0x00100030, PatientSex: 0x00100040, OtherPatientIDsSequence: 0x00101002, PatientBirthName: 0x00101005,
  BodyPartExamined: 0x00180015, DeviceSerialNumber: 0x00181000, SoftwareVersions: 0x00181020,
  StudyInstanceUID: 0x0020000d, SeriesInstanceUID: 0x0020000e, StudyID: 0x00200010, SeriesNumber: 0x00200011, InstanceNumber: 0x00200013,
  PatientOrientation: 0x00200020, Laterality: 0x00200060, ImageComments: 0x00204000,
  SamplesPerPixel: 0x00280002, PhotometricInterpretation: 0x00280004, PlanarConfiguration: 0x00280006, Rows: 0x00280010, Columns: 0x00280011,
  BitsAllocated: 0x00280100, BitsStored: 0x00280101, HighBit: 0x00280102, PixelRepresentation: 0x00280103, BurnedInAnnotation: 0x00280301,
  LossyImageCompression: 0x00282110, LossyImageCompressionRatio: 0x00282112, LossyImageCompressionMethod: 0x00282114,
  AcquisitionContextSequence: 0x00400555, AcquisitionContextDescription: 0x00400556, ConceptNameCodeSequence: 0x0040a043,
  DocumentTitle: 0x00420010, EncapsulatedDocument: 0x00420011, MIMETypeOfEncapsulatedDocument: 0x00420012, EncapsulatedDocumentLength: 0x00420015,
} as const;

/** The teleconsultation's study, the same on every hub of the site and for every photo and report. */
export function teleconsultationStudyUid(site: string, teleconsultationId: string): string {
  return nameUid(`passerelle:teleconsultation:${site}:${teleconsultationId}`);
}

/** Wall time in the site's zone: DA, TM and the offset (+0100) DICOM wants. */
function wallTime(instant: Date, timeZone: string): { da: string; tm: string; offset: string } {
  const offset = offsetForWallTime(instant.getTime(), timeZone);
  const local = new Date(instant.getTime() + offset * 60_000).toISOString();
  return { da: local.slice(0, 10).replace(/-/g, ''), tm: local.slice(11, 19).replace(/:/g, ''), offset: formatOffset(offset, true) };
}

const cut = (value: string, max: number) => [...value].slice(0, max).join('');

/** PN: family^given^middle, each component at most 64 characters. */
function personName(family: string, given: readonly string[] = []): string {
  return [family, given[0] ?? '', given.slice(1).join(' ')].map((c) => cut(c.replace(/[\\^=]/g, ' '), 64)).join('^').replace(/\^+$/, '');
}

function code(value: CodedRegion | { code: string; display: string }): Element[] {
  return [text(T.CodeValue, 'SH', value.code), text(T.CodingSchemeDesignator, 'SH', 'SCT'), text(T.CodeMeaning, 'LO', cut(value.display, 64))];
}

/** Patient module: the INS as Patient ID (its OID the issuer) when there is one, the local id beside it. */
function patientElements(p: PhotoCompanion['patient']): Element[] {
  const out = [text(T.PatientName, 'PN', personName(p.family, p.given))];
  const ids: Array<{ value: string; issuer: string }> = [];
  if (p.ins) ids.push({ value: p.ins.value, issuer: INS_OIDS[p.ins.type] });
  if (p.localId) ids.push({ value: p.localId.value, issuer: p.localId.authority });
  if (ids.length === 0) throw new InvalidPhotoError(['/patient has neither an INS nor a local id: the PACS could not file the photo']);
  out.push(text(T.PatientID, 'LO', cut(ids[0].value, 64)), text(T.IssuerOfPatientID, 'LO', cut(ids[0].issuer, 64)));
  if (ids.length > 1) out.push(sequence(T.OtherPatientIDsSequence, ids.slice(1).map((id) => [text(T.PatientID, 'LO', cut(id.value, 64)), text(T.IssuerOfPatientID, 'LO', cut(id.issuer, 64)), text(T.TypeOfPatientID, 'CS', 'TEXT')])));
  out.push(text(T.PatientBirthDate, 'DA', p.birthDate ? p.birthDate.replace(/-/g, '') : ''));
  out.push(text(T.PatientSex, 'CS', p.sex && p.sex !== 'U' ? p.sex : ''));
  if (p.birthName) out.push(text(T.PatientBirthName, 'PN', personName(p.birthName, p.given)));
  return out;
}

/** The region: coded (with laterality as modifier), Body Part Examined, and the series' Laterality. */
function regionElements(companion: PhotoCompanion): Element[] {
  if (!companion.region) return [];
  const known = typeof companion.region === 'string' ? regions.regions[companion.region as RegionName] : undefined;
  const coded = known ?? (companion.region as CodedRegion);
  const item = code(coded);
  const out: Element[] = [];
  const side = companion.laterality ? regions.laterality[companion.laterality] : undefined;
  if (side) {
    item.push(sequence(T.AnatomicRegionModifierSequence, [code(side)]));
    out.push(text(T.Laterality, 'CS', side.dicom === 'B' ? '' : side.dicom));
  }
  out.push(sequence(T.AnatomicRegionSequence, [item]));
  if (known) out.push(text(T.BodyPartExamined, 'CS', known.bodyPart));
  return out;
}

/** Patient, General Study, General Series, General Equipment and SOP Common, shared by photos and documents. */
function commonElements(companion: PhotoCompanion, options: PhotoOptions, kind: keyof typeof SERIES_NUMBER, modality: string, sopClassUid: string, sopInstanceUid: string): Element[] {
  const taken = companion.takenAt ? new Date(companion.takenAt) : options.receivedAt;
  const started = companion.teleconsultation.startedAt ? new Date(companion.teleconsultation.startedAt) : taken;
  const study = wallTime(started, options.timeZone);
  const content = wallTime(taken, options.timeZone);
  const created = wallTime(options.receivedAt, options.timeZone);
  const studyUid = teleconsultationStudyUid(options.site, companion.teleconsultation.id);
  const device = companion.device ?? {};
  const out: Element[] = [
    text(T.SpecificCharacterSet, 'CS', 'ISO_IR 192'),
    text(T.InstanceCreationDate, 'DA', created.da), text(T.InstanceCreationTime, 'TM', created.tm),
    text(T.SOPClassUID, 'UI', sopClassUid), text(T.SOPInstanceUID, 'UI', sopInstanceUid),
    text(T.StudyDate, 'DA', study.da), text(T.StudyTime, 'TM', study.tm),
    text(T.SeriesDate, 'DA', content.da), text(T.SeriesTime, 'TM', content.tm),
    text(T.ContentDate, 'DA', content.da), text(T.ContentTime, 'TM', content.tm),
    text(T.AccessionNumber, 'SH', ''), text(T.Modality, 'CS', modality), text(T.ReferringPhysicianName, 'PN', ''),
    text(T.TimezoneOffsetFromUTC, 'SH', content.offset),
    text(T.Manufacturer, 'LO', cut(device.manufacturer ?? companion.cart.manufacturer ?? '', 64)),
    text(T.StationName, 'SH', cut(companion.cart.id, 16)),
    text(T.StudyDescription, 'LO', cut(`Téléconsultation ${companion.teleconsultation.id}`, 64)),
    text(T.SeriesDescription, 'LO', seriesDescription(companion, kind, modality)),
    ...patientElements(companion.patient),
    text(T.StudyInstanceUID, 'UI', studyUid),
    text(T.SeriesInstanceUID, 'UI', nameUid(`${studyUid}:series:${kind}:${modality}:${device.serial ?? device.model ?? companion.cart.id}`)),
    text(T.StudyID, 'SH', cut(companion.teleconsultation.id, 16)),
    text(T.SeriesNumber, 'IS', SERIES_NUMBER[kind]),
    text(T.InstanceNumber, 'IS', ''),
  ];
  if (device.model ?? companion.cart.model) out.push(text(T.ManufacturerModelName, 'LO', cut((device.model ?? companion.cart.model)!, 64)));
  if (device.serial ?? companion.cart.serial) out.push(text(T.DeviceSerialNumber, 'LO', cut((device.serial ?? companion.cart.serial)!, 64)));
  const software = device.softwareVersion ?? companion.cart.softwareVersion;
  if (software) out.push(text(T.SoftwareVersions, 'LO', cut(software, 64)));
  if (companion.operator?.name) out.push(text(T.OperatorsName, 'PN', personName(companion.operator.name)));
  return out;
}

function seriesDescription(companion: PhotoCompanion, kind: keyof typeof SERIES_NUMBER, modality: string): string {
  if (kind === 'document') return 'Compte rendu';
  const what = kind === 'dermoscopy' ? (modality === 'XC' ? 'Dermoscopie (XC)' : 'Dermoscopie') : companion.device?.kind === 'otoscope' ? 'Otoscopie' : 'Photographie';
  return cut(what, 64);
}

/** A baseline JPEG → VL Photographic (or Dermoscopic Photography), the JPEG bytes untouched. */
export function photoObject(jpegBytes: Buffer, companion: PhotoCompanion, options: PhotoOptions): BuiltObject {
  if (companion.contentType !== 'image/jpeg') throw new InvalidPhotoError([`/contentType is ${companion.contentType}, the bytes are a photo`]);
  const jpeg = readJpeg(jpegBytes);
  const dermoscopy = companion.device?.kind === 'dermatoscope';
  const dms = dermoscopy && options.dermoscopy === 'DMS';
  const sopClassUid = dms ? DERMOSCOPIC_PHOTOGRAPHY : VL_PHOTOGRAPHIC;
  const sopInstanceUid = nameUid(`passerelle:photo:${companion.id}`);
  const colour = jpeg.components === 3;
  const taken = companion.takenAt ? new Date(companion.takenAt) : options.receivedAt;
  const acquired = wallTime(taken, options.timeZone);
  const context = [companion.teleconsultation.room, companion.device?.kind].filter((v): v is string => !!v).join(', ');
  const ratio = (jpeg.rows * jpeg.columns * jpeg.components) / jpegBytes.length;
  const elements: Element[] = [
    ...commonElements(companion, options, dermoscopy ? 'dermoscopy' : 'photo', dms ? 'DMS' : 'XC', sopClassUid, sopInstanceUid),
    text(T.ImageType, 'CS', ['ORIGINAL', 'PRIMARY']),
    text(T.AcquisitionDateTime, 'DT', `${acquired.da}${acquired.tm}${acquired.offset}`),
    text(T.PatientOrientation, 'CS', ''),
    text(T.BurnedInAnnotation, 'CS', 'NO'),
    // Acquisition Context Module: the sequence is Type 2 (present, may be empty); the text says where and with what.
    sequence(T.AcquisitionContextSequence, []),
    uint16(T.SamplesPerPixel, jpeg.components),
    text(T.PhotometricInterpretation, 'CS', jpeg.photometricInterpretation),
    ...(colour ? [uint16(T.PlanarConfiguration, 0)] : []),
    uint16(T.Rows, jpeg.rows), uint16(T.Columns, jpeg.columns),
    uint16(T.BitsAllocated, 8), uint16(T.BitsStored, 8), uint16(T.HighBit, 7), uint16(T.PixelRepresentation, 0),
    text(T.LossyImageCompression, 'CS', '01'),
    text(T.LossyImageCompressionRatio, 'DS', ratio.toFixed(2).slice(0, 16)),
    text(T.LossyImageCompressionMethod, 'CS', 'ISO_10918_1'),
    ...regionElements(companion),
    encapsulatedPixelData([jpegBytes]),
  ];
  if (context) elements.push(text(T.AcquisitionContextDescription, 'ST', cut(`Téléconsultation ${companion.teleconsultation.id}: ${context}`, 1024)));
  if (companion.description) elements.push(text(T.ImageComments, 'LT', companion.description));
  return { sopClassUid, sopInstanceUid, transferSyntaxUid: JPEG_BASELINE, dataset: dataset(elements), jpeg };
}

/** %PDF- at the start and %%EOF in the last kilobyte: a PDF, whole. */
function checkPdf(bytes: Buffer): void {
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') throw new InvalidPhotoError(['the bytes are not a PDF (no %PDF- at the start)']);
  if (!bytes.subarray(Math.max(0, bytes.length - 1024)).toString('latin1').includes('%%EOF')) throw new InvalidPhotoError(['the PDF is cut short (no %%EOF at the end)']);
}

/** A PDF report → Encapsulated PDF (Explicit VR Little Endian), the PDF bytes untouched. */
export function pdfObject(pdfBytes: Buffer, companion: PhotoCompanion, options: PhotoOptions): BuiltObject {
  if (companion.contentType !== 'application/pdf') throw new InvalidPhotoError([`/contentType is ${companion.contentType}, the bytes are a PDF`]);
  checkPdf(pdfBytes);
  const sopInstanceUid = nameUid(`passerelle:document:${companion.id}`);
  const taken = companion.takenAt ? new Date(companion.takenAt) : options.receivedAt;
  const acquired = wallTime(taken, options.timeZone);
  const elements: Element[] = [
    ...commonElements(companion, options, 'document', 'DOC', ENCAPSULATED_PDF, sopInstanceUid),
    text(T.ConversionType, 'CS', 'WSD'),
    text(T.AcquisitionDateTime, 'DT', `${acquired.da}${acquired.tm}${acquired.offset}`),
    // The report names the patient on its pages.
    text(T.BurnedInAnnotation, 'CS', 'YES'),
    sequence(T.ConceptNameCodeSequence, []),
    text(T.DocumentTitle, 'ST', cut(companion.description ?? `Compte rendu de téléconsultation ${companion.teleconsultation.id}`, 1024)),
    element(T.EncapsulatedDocument, 'OB', pdfBytes),
    text(T.MIMETypeOfEncapsulatedDocument, 'LO', 'application/pdf'),
    uint32(T.EncapsulatedDocumentLength, pdfBytes.length),
    ...regionElements(companion),
  ];
  return { sopClassUid: ENCAPSULATED_PDF, sopInstanceUid, transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN, dataset: dataset(elements) };
}

/** The object for the companion's content type. */
export function cartObject(bytes: Buffer, companion: PhotoCompanion, options: PhotoOptions): BuiltObject {
  return companion.contentType === 'application/pdf' ? pdfObject(bytes, companion, options) : photoObject(bytes, companion, options);
}
