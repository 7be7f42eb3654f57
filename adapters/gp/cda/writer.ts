/**
 * Writes a GP report as a CDA R2 level 3 CR-BIO document (UTF-8): the CI-SIS header (INS,
 * prescriber, the GP as PCP, sampler, validating doctor, executing site), one chapter section
 * with a sub-section per battery, a narrative table, and entries the table's rows are referenced
 * from, coded in LOINC with UCUM units. Every character is kept; see format-details.ts.
 */
import type { AbnormalFlag, Code, Observation, PersonName, Provider } from '../../model';
import { GpFormatError } from '../errors';
import { analysisLabel, cannotCarry, documentIdFor, stableId, flagsOf, insOf, isLoinc, localIdOf, valueText, type GpReport, type ReportItem } from '../report';
import { formatDecimal, wallClock } from '../text';
import * as F from './format-details';
import { XmlText } from './xml';

export interface CdaOptions {
  /** The site that ran the tests: its FINESS (or other id under `idRoot`) and name. */
  organization: { id: string; idRoot?: string; name: string };
  /** The doctor who validates point-of-care results at the site (legal authenticator, RPPS). */
  responsible: Provider;
  /** OID of the site's patient-id (IPP) domain; without it the IPP is left out. */
  ippRoot?: string;
  chapter?: Code;
  /** For a correction: the document it replaces (default: the one that carried exactly the corrected results). */
  previous?: { documentId: string; version?: number };
  timeZone?: string;
  now?: Date;
}

export interface WrittenCda {
  bytes: Buffer;
  fileName: string;
  /** Characters XML cannot carry (control characters), written as U+FFFD. */
  replaced: number;
}

/** A UUID as an OID under 2.25 (ISO/IEC 9834-8): ids CDA can carry. */
export function uuidOid(uuid: string): string {
  return `2.25.${BigInt(`0x${uuid.replace(/-/g, '')}`).toString(10)}`;
}

export function writeCdaCrBio(report: GpReport, options: CdaOptions): WrittenCda {
  const refusal = cannotCarry('cda-crbio', report);
  if (refusal) throw new GpFormatError(refusal);
  if (!options.responsible.id) throw new GpFormatError('the validating doctor needs an RPPS number');
  const x = new XmlText();
  const tz = options.timeZone;
  const ts = (instant: string) => {
    const w = wallClock(instant, tz);
    const sign = w.offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(w.offsetMinutes);
    return `${w.year}${w.month}${w.day}${w.hour}${w.minute}${w.second}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  };
  const now = ts((options.now ?? new Date()).toISOString());
  const org = options.organization;
  const orgId = x.el('id', { root: org.idRoot ?? F.FINESS_ROOT, extension: org.id });
  const organization = (tag: string) => x.el(tag, {}, orgId, x.el('name', {}, x.text(org.name)));
  const person = (p: Provider) => x.el('assignedPerson', {}, personName(x, p.name));
  const psId = (p: Provider) => (p.id ? x.el('id', { root: F.PS_ROOT, extension: `${F.RPPS_PREFIX}${p.id}` }) : x.el('id', { nullFlavor: 'UNK' }));
  const responsible = options.responsible;
  const patient = report.patient;
  const ins = insOf(patient);
  const ipp = localIdOf(patient);
  const chapter: Code = options.chapter ?? F.DEFAULT_CHAPTER;

  const header = [
    x.el('realmCode', { code: F.REALM }),
    x.el('typeId', { root: F.TYPE_ID.root, extension: F.TYPE_ID.extension }),
    ...F.DOCUMENT_TEMPLATES.map((t) => x.el('templateId', { root: t.root, extension: t.extension })),
    x.el('id', { root: uuidOid(report.documentId) }),
    x.el('code', { code: F.DOCUMENT_CODE.code, codeSystem: F.DOCUMENT_CODE.codeSystem, codeSystemName: 'LOINC', displayName: F.DOCUMENT_CODE.displayName }),
    x.el('title', {}, x.text(F.DOCUMENT_TITLE)),
    x.el('effectiveTime', { value: now }),
    x.el('confidentialityCode', { code: F.CONFIDENTIALITY.code, codeSystem: F.CONFIDENTIALITY.codeSystem }),
    x.el('languageCode', { code: F.LANGUAGE }),
    x.el('setId', { root: uuidOid(report.setId) }),
    x.el('versionNumber', { value: report.version }),
    x.el('recordTarget', {}, x.el('patientRole', {},
      ins ? x.el('id', { root: F.INS_NIR_ROOT, extension: ins }) : undefined,
      ipp && options.ippRoot ? x.el('id', { root: options.ippRoot, extension: ipp }) : undefined,
      !ins && !(ipp && options.ippRoot) ? x.el('id', { nullFlavor: 'UNK' }) : undefined,
      x.el('patient', {},
        x.el('name', {},
          x.el('family', { qualifier: F.NAME_QUALIFIER.birth }, x.text(patient.birthName ?? patient.name?.family ?? '')),
          patient.birthName && patient.name ? x.el('family', { qualifier: F.NAME_QUALIFIER.used }, x.text(patient.name.family)) : undefined,
          patient.name?.given?.length ? x.el('given', {}, x.text(patient.name.given.join(' '))) : undefined),
        patient.sex && patient.sex !== 'O' ? x.el('administrativeGenderCode', { code: patient.sex === 'U' ? 'UN' : patient.sex, codeSystem: F.GENDER_SYSTEM }) : x.el('administrativeGenderCode', { nullFlavor: 'UNK' }),
        patient.birthDate ? x.el('birthTime', { value: patient.birthDate.replace(/-/g, '') }) : x.el('birthTime', { nullFlavor: 'UNK' })))),
    x.el('author', {}, x.el('time', { value: ts(report.reportedAt) }), x.el('assignedAuthor', {}, psId(responsible), person(responsible), organization('representedOrganization'))),
    x.el('custodian', {}, x.el('assignedCustodian', {}, organization('representedCustodianOrganization'))),
    x.el('legalAuthenticator', {}, x.el('time', { value: now }), x.el('signatureCode', { code: 'S' }), x.el('assignedEntity', {}, psId(responsible), person(responsible), organization('representedOrganization'))),
    x.el('authenticator', {}, x.el('templateId', { root: F.AUTHENTICATOR_TEMPLATE }), x.el('time', { value: ts(report.reportedAt) }), x.el('signatureCode', { code: 'S' }),
      x.el('assignedEntity', {}, psId(responsible), x.el('addr', { nullFlavor: 'UNK' }), x.el('telecom', { nullFlavor: 'UNK' }), person(responsible))),
    report.gp ? x.el('participant', { typeCode: F.GP_PARTICIPANT.typeCode },
      x.el('functionCode', { code: F.GP_PARTICIPANT.functionCode, codeSystem: F.GP_PARTICIPANT.codeSystem, displayName: F.GP_PARTICIPANT.displayName }),
      x.el('associatedEntity', { classCode: 'PROV' }, psId(report.gp),
        report.gp.mailbox ? x.el('telecom', { value: `mailto:${report.gp.mailbox}` }) : undefined,
        x.el('associatedPerson', {}, personName(x, report.gp.name)))) : undefined,
    report.prescriber ? x.el('participant', { typeCode: F.PRESCRIBER_PARTICIPANT.typeCode },
      x.el('associatedEntity', { classCode: 'PROV' }, psId(report.prescriber), x.el('associatedPerson', {}, personName(x, report.prescriber.name)))) : undefined,
    report.collectedAt ? x.el('participant', { typeCode: F.SAMPLER_PARTICIPANT.typeCode },
      x.el('functionCode', { code: F.SAMPLER_PARTICIPANT.functionCode, codeSystem: F.SAMPLER_PARTICIPANT.codeSystem, displayName: F.SAMPLER_PARTICIPANT.displayName }),
      x.el('time', { value: ts(report.collectedAt) }),
      x.el('associatedEntity', { classCode: 'PROV' }, x.el('id', { nullFlavor: 'UNK' }))) : undefined,
    report.orderNumber ? x.el('inFulfillmentOf', {}, x.el('order', {}, x.el('id', { root: uuidOid(stableId(`order-root:${org.id}`)), extension: report.orderNumber }))) : undefined,
    x.el('documentationOf', {}, x.el('serviceEvent', {},
      x.el('code', { code: chapter.code, codeSystem: F.LOINC, displayName: chapter.display }),
      x.el('effectiveTime', {}, x.el('low', { value: ts(report.collectedAt ?? report.receivedAt) }), x.el('high', { value: ts(report.reportedAt) })),
      x.el('lab:statusCode', { code: 'completed' }),
      x.el('performer', { typeCode: 'PRF' }, x.el('templateId', { root: F.PERFORMER_TEMPLATE }),
        x.el('assignedEntity', {}, orgId, x.el('representedOrganization', {}, orgId, x.el('name', {}, x.text(org.name))))))),
    report.correction ? x.el('relatedDocument', { typeCode: F.REPLACES }, x.el('parentDocument', {},
      x.el('id', { root: uuidOid(options.previous?.documentId ?? documentIdFor(report.replaces)) }),
      x.el('setId', { root: uuidOid(report.setId) }),
      x.el('versionNumber', { value: options.previous?.version ?? report.version - 1 }))) : undefined,
    x.el('componentOf', {}, x.el('encompassingEncounter', {},
      x.el('effectiveTime', { value: ts(report.collectedAt ?? report.receivedAt) }),
      x.el('responsibleParty', {}, x.el('assignedEntity', {}, psId(responsible), person(responsible))),
      x.el('location', {}, x.el('healthCareFacility', {}, x.el('code', { code: F.FACILITY.code, codeSystem: F.FACILITY.codeSystem, displayName: F.FACILITY.displayName }))))),
  ];

  // One sub-chapter per battery, in the order batteries first appear.
  const batteries = new Map<string, { code?: Code; items: ReportItem[] }>();
  for (const item of report.items) {
    const key = item.battery?.code ?? '';
    batteries.set(key, { code: item.battery, items: [...(batteries.get(key)?.items ?? []), item] });
  }
  let row = 0;
  const subChapters = [...batteries.values()].map(({ code, items }) => {
    const ids = items.map(() => `res-${++row}`);
    const battery = code ? codeElement(x, 'code', code) : x.el('code', { nullFlavor: 'UNK' });
    const narrative = x.el('text', {}, x.el('table', { border: 1 },
      x.el('thead', {}, x.el('tr', {}, ...F.NARRATIVE_COLUMNS.map((c) => x.el('th', {}, x.text(c))))),
      x.el('tbody', {}, ...items.map(({ observation: o }, i) => x.el('tr', { ID: ids[i] },
        x.el('td', {}, x.text(analysisLabel(o))), x.el('td', {}, x.text(valueText(o))), x.el('td', {}, x.text(o.unit?.display ?? o.unit?.code ?? '')),
        x.el('td', {}, x.text(rangeText(o))), x.el('td', {}, x.text(flagsOf(o).join(' '))))))));
    const observations = items.map(({ observation }, i) => x.el('component', {}, observationElement(x, observation, ids[i], ts)));
    const organizerTime = items.map((i) => i.observation.observedAt).find((t) => t);
    return x.el('component', {}, x.el('section', {},
      ...F.SUBCHAPTER_TEMPLATES.map((root) => x.el('templateId', { root })),
      battery,
      x.el('title', {}, x.text(code?.display ?? F.DEFAULT_BATTERY_TITLE)),
      narrative,
      x.el('entry', { typeCode: 'DRIV' }, x.el('act', { classCode: 'ACT', moodCode: 'EVN' },
        ...F.ACT_TEMPLATES.map((root) => x.el('templateId', { root })),
        battery,
        x.el('statusCode', { code: 'completed' }),
        x.el('entryRelationship', { typeCode: 'COMP' }, x.el('organizer', { classCode: 'BATTERY', moodCode: 'EVN' },
          ...F.BATTERY_TEMPLATES.map((root) => x.el('templateId', { root })),
          battery,
          x.el('statusCode', { code: 'completed' }),
          organizerTime ? x.el('effectiveTime', { value: ts(organizerTime) }) : undefined,
          ...observations))))));
  });
  const body = x.el('component', {}, x.el('structuredBody', {}, x.el('component', {}, x.el('section', {},
    ...F.CHAPTER_TEMPLATES.map((root) => x.el('templateId', { root })),
    x.el('code', { code: chapter.code, codeSystem: F.LOINC, displayName: chapter.display }),
    x.el('title', {}, x.text(chapter.display ?? chapter.code)),
    ...subChapters))));

  const document = x.el('ClinicalDocument', { xmlns: F.NS.cda, 'xmlns:xsi': F.NS.xsi, 'xmlns:lab': F.NS.lab }, ...header, body);
  return { bytes: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${document}\n`, 'utf8'), fileName: `CR-BIO_${report.documentId.slice(0, 8)}.xml`, replaced: x.replaced };
}

function personName(x: XmlText, name: PersonName | undefined): string {
  if (!name) return x.el('name', { nullFlavor: 'UNK' });
  return x.el('name', {}, x.el('family', {}, x.text(name.family)), name.given?.length ? x.el('given', {}, x.text(name.given.join(' '))) : undefined, name.prefix ? x.el('prefix', {}, x.text(name.prefix)) : undefined);
}

/** An OID for a code system: the known ones, else a stable 2.25 OID from its name. */
export function codeSystemOid(system: string | undefined): string {
  if (!system) return uuidOid(stableId('passerelle:code-system:local'));
  return F.CODE_SYSTEMS[system] ?? (/^[0-2](\.\d+)+$/.test(system) ? system : uuidOid(stableId(`passerelle:code-system:${system}`)));
}

function codeElement(x: XmlText, tag: string, code: Code): string {
  return x.el(tag, { code: code.code, codeSystem: codeSystemOid(code.system), codeSystemName: code.system, displayName: code.display });
}

function observationElement(x: XmlText, o: Observation, rowId: string, ts: (instant: string) => string): string {
  const local = x.el('translation', { code: o.deviceCode.code, codeSystem: codeSystemOid(o.deviceCode.system), codeSystemName: o.deviceCode.system, displayName: o.deviceCode.display });
  const code = o.code && isLoinc(o.code)
    ? x.el('code', { code: o.code.code, codeSystem: F.LOINC, codeSystemName: 'LOINC', displayName: o.code.display ?? o.deviceCode.display ?? o.code.code }, local)
    : x.el('code', { nullFlavor: 'OTH' }, local);
  const unit = o.unit?.code;
  return x.el('observation', { classCode: 'OBS', moodCode: 'EVN' },
    ...F.OBSERVATION_TEMPLATES.map((root) => x.el('templateId', { root })),
    code,
    x.el('text', {}, x.el('reference', { value: `#${rowId}` })),
    x.el('statusCode', { code: 'completed' }),
    o.observedAt ? x.el('effectiveTime', { value: ts(o.observedAt) }) : x.el('effectiveTime', { nullFlavor: 'UNK' }),
    valueElement(x, o, unit),
    ...flagsOf(o).map((flag: AbnormalFlag) => x.el('interpretationCode', { code: flag, codeSystem: F.INTERPRETATION_SYSTEM })),
    o.referenceRange && (o.referenceRange.low !== undefined || o.referenceRange.high !== undefined)
      ? x.el('referenceRange', {}, x.el('observationRange', {},
        x.el('value', { 'xsi:type': 'IVL_PQ' },
          o.referenceRange.low !== undefined ? x.el('low', { value: formatDecimal(o.referenceRange.low), unit: unit ?? '1' }) : undefined,
          o.referenceRange.high !== undefined ? x.el('high', { value: formatDecimal(o.referenceRange.high), unit: unit ?? '1' }) : undefined),
        x.el('interpretationCode', { code: F.NORMAL_RANGE_INTERPRETATION, codeSystem: F.INTERPRETATION_SYSTEM })))
      : undefined);
}

function valueElement(x: XmlText, o: Observation, unit: string | undefined): string | undefined {
  const value = o.value;
  if (value === undefined) return undefined;
  if (typeof value === 'number') return x.el('value', { 'xsi:type': 'PQ', value: formatDecimal(value), unit: unit ?? '1' });
  if (typeof value === 'string') return x.el('value', { 'xsi:type': 'ST' }, x.text(value));
  if ('comparator' in value) {
    const bound = { value: formatDecimal(value.number), unit: unit ?? '1' };
    switch (value.comparator) {
      case '=': return x.el('value', { 'xsi:type': 'PQ', ...bound });
      case '<': return x.el('value', { 'xsi:type': 'IVL_PQ' }, x.el('high', { ...bound, inclusive: 'false' }));
      case '<=': return x.el('value', { 'xsi:type': 'IVL_PQ' }, x.el('high', { ...bound, inclusive: 'true' }));
      case '>': return x.el('value', { 'xsi:type': 'IVL_PQ' }, x.el('low', { ...bound, inclusive: 'false' }));
      case '>=': return x.el('value', { 'xsi:type': 'IVL_PQ' }, x.el('low', { ...bound, inclusive: 'true' }));
    }
  }
  return x.el('value', { 'xsi:type': 'CE', code: value.code, codeSystem: codeSystemOid(value.system), codeSystemName: value.system, displayName: value.display });
}

function rangeText(o: Observation): string {
  const r = o.referenceRange;
  if (!r) return '';
  if (r.low === undefined && r.high === undefined) return r.text ?? '';
  return `${r.low !== undefined ? formatDecimal(r.low) : ''} - ${r.high !== undefined ? formatDecimal(r.high) : ''}`;
}
