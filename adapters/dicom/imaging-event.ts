/** The canonical imaging event of a stored object, from its decoded header. */
import { randomUUID } from 'node:crypto';
import { formatOffset, offsetForWallTime } from '../common/time-zone';
import { IMAGING_EVENT_SCHEMA, type ImagingEvent } from '../model/imaging';
import type { PersonName } from '../model/result';
import type { ObjectHeader } from './header';
import { STORAGE_CLASSES } from './uids';

export interface StoredContext {
  site: string;
  deviceId: string;
  callingAeTitle: string;
  calledAeTitle: string;
  /** DICOM times without (0008,0201) are the modality's wall clock, read in this zone. */
  timeZone: string;
  receivedAt: Date;
  file: ImagingEvent['file'];
  journalId?: string;
}

/** PN: components family^given^middle^prefix^suffix; only the first (alphabetic) group of '='. */
export function personName(value: string | undefined): PersonName | undefined {
  const alphabetic = (value ?? '').split('=')[0];
  const [family = '', given = '', middle = '', prefix = ''] = alphabetic.split('^').map((p) => p.trim());
  if (family === '') return undefined;
  const name: PersonName = { family };
  const givenNames = [given, middle].filter((g) => g !== '');
  if (givenNames.length > 0) name.given = givenNames;
  if (prefix !== '') name.prefix = prefix;
  return name;
}

function isoDate(da: string | undefined): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec((da ?? '').replace(/\./g, ''));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/** DA + TM (or DT) in the modality's wall time → RFC 3339 with the offset that applies. */
export function instant(da: string | undefined, tm: string | undefined, declaredOffset: string | undefined, timeZone: string): string | undefined {
  const date = isoDate(da);
  if (!date) return undefined;
  const t = /^(\d{2})(\d{2})?(\d{2})?(\.\d{1,6})?$/.exec((tm ?? '').replace(/:/g, '').trim());
  if (!t) return undefined;
  const [hh, mm = '00', ss = '00'] = [t[1], t[2], t[3]];
  const millis = t[4] ? t[4].slice(1).padEnd(3, '0').slice(0, 3) : undefined;
  const wall = Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10), +hh, +mm, +ss);
  if (Number.isNaN(wall) || +hh > 23 || +mm > 59 || +ss > 60) return undefined;
  const declared = /^([+-])(\d{2})(\d{2})$/.exec(declaredOffset ?? '');
  const offset = declared ? (declared[1] === '-' ? -1 : 1) * (+declared[2] * 60 + +declared[3]) : offsetForWallTime(wall, timeZone);
  return `${date}T${hh}:${mm}:${ss}${millis ? `.${millis}` : ''}${formatOffset(offset)}`;
}

/** DT: YYYYMMDDHHMMSS.FFFFFF&ZZXX. */
function dateTime(dt: string | undefined, declaredOffset: string | undefined, timeZone: string): string | undefined {
  const m = /^(\d{8})(\d{2,6}(?:\.\d{1,6})?)?([+-]\d{4})?$/.exec((dt ?? '').trim());
  return m ? instant(m[1], m[2] ?? '00', m[3] ?? declaredOffset, timeZone) : undefined;
}

function integer(text: string | undefined): number | undefined {
  const n = Number((text ?? '').trim());
  return text !== undefined && Number.isInteger(n) ? n : undefined;
}

/** An instant as the site's wall time with its offset, RFC 3339. */
export function localTime(date: Date, timeZone: string): string {
  const offset = offsetForWallTime(date.getTime(), timeZone);
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23);
  return `${local}${formatOffset(offset)}`;
}

export function buildImagingEvent(header: ObjectHeader, context: StoredContext): ImagingEvent {
  const v = header.values;
  const tz = context.timeZone;
  const offset = v.TimezoneOffsetFromUTC;
  const event: ImagingEvent = {
    schema: IMAGING_EVENT_SCHEMA,
    id: randomUUID(),
    event: 'stored',
    source: { site: context.site, deviceId: context.deviceId, callingAeTitle: context.callingAeTitle, calledAeTitle: context.calledAeTitle, protocol: 'dicom' },
    study: { instanceUid: v.StudyInstanceUID! },
    series: { instanceUid: v.SeriesInstanceUID! },
    instance: { sopClassUid: v.SOPClassUID!, sopInstanceUid: v.SOPInstanceUID! },
    times: { received: localTime(context.receivedAt, tz) },
    file: context.file,
  };
  if (v.Manufacturer) event.source.manufacturer = v.Manufacturer;
  if (v.ManufacturerModelName) event.source.model = v.ManufacturerModelName;
  if (v.StationName) event.source.stationName = v.StationName;
  const name = personName(v.PatientName);
  const birthDate = isoDate(v.PatientBirthDate);
  const sex = v.PatientSex?.toUpperCase();
  if (v.PatientID || name) {
    event.patient = { identifiers: v.PatientID ? [{ value: v.PatientID, ...(v.IssuerOfPatientID ? { authority: v.IssuerOfPatientID } : {}) }] : [] };
    if (name) event.patient.name = name;
    if (birthDate) event.patient.birthDate = birthDate;
    if (sex === 'F' || sex === 'M' || sex === 'O') event.patient.sex = sex;
  }
  if (v.AccessionNumber) event.accessionNumber = v.AccessionNumber;
  if (v.StudyID) event.study.id = v.StudyID;
  if (v.StudyDescription) event.study.description = v.StudyDescription;
  const seriesNumber = integer(v.SeriesNumber);
  if (seriesNumber !== undefined) event.series.number = seriesNumber;
  if (v.SeriesDescription) event.series.description = v.SeriesDescription;
  const sopClassName = STORAGE_CLASSES[v.SOPClassUID!];
  if (sopClassName) event.instance.sopClassName = sopClassName;
  const instanceNumber = integer(v.InstanceNumber);
  if (instanceNumber !== undefined) event.instance.number = instanceNumber;
  const frames = integer(v.NumberOfFrames);
  if (frames !== undefined && frames >= 1) event.instance.frames = frames;
  if (v.Modality) event.modality = v.Modality;
  if (v.BodyPartExamined) event.bodyPart = v.BodyPartExamined;
  const times = {
    study: instant(v.StudyDate, v.StudyTime, offset, tz),
    series: instant(v.SeriesDate, v.SeriesTime, offset, tz),
    acquired: dateTime(v.AcquisitionDateTime, offset, tz) ?? instant(v.AcquisitionDate, v.AcquisitionTime, offset, tz),
    content: instant(v.ContentDate, v.ContentTime, offset, tz),
  };
  for (const [key, value] of Object.entries(times)) if (value) event.times[key as keyof typeof times] = value;
  if (header.characterSet) event.characterSet = header.characterSet;
  if (context.journalId) event.raw = { journalId: context.journalId };
  return event;
}
