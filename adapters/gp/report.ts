/**
 * What goes to a GP: point-of-care biology results grouped per patient and visit, final results
 * only, a correction as its own report. Every format writer takes a GpReport; every reader gives
 * back a ReadReport, so tests compare the two whatever the format.
 */
import { createHash } from 'node:crypto';
import type { AbnormalFlag, Code, GeneralPractitioner, Observation, Patient, Provider, Result } from '../model';
import { formatDecimal, wallClock } from './text';

export interface ReportItem {
  resultId: string;
  observation: Observation;
  /** The battery the observation belongs to (the order's code), when known. */
  battery?: Code;
}

export interface GpReport {
  /** Stable id of this document: the same results give the same id. */
  documentId: string;
  /** Stable id of the visit's document set: a correction keeps it and raises `version`. */
  setId: string;
  version: number;
  correction: boolean;
  /** For a correction: ids of the results it corrects. */
  replaces: string[];
  patient: Patient;
  gp?: GeneralPractitioner;
  prescriber?: Provider;
  site: string;
  orderNumber?: string;
  specimenId?: string;
  collectedAt?: string;
  receivedAt: string;
  /** When the last observation was validated: the report's date. */
  reportedAt: string;
  items: ReportItem[];
}

/** One result as a reader gives it back: text as written, so a test compares it exactly. */
export interface ReadResult {
  code: string;
  label?: string;
  value: string;
  unit?: string;
  low?: string;
  high?: string;
  flags: string[];
  status?: string;
}

export interface ReadReport {
  patient: { family?: string; given?: string; birthDate?: string; sex?: string; ins?: string; localId?: string };
  gp?: { id?: string; family?: string; given?: string; mailbox?: string };
  prescriber?: { id?: string; family?: string };
  correction: boolean;
  results: ReadResult[];
}

/** The value of an observation as text: numbers without exponent, `<5` for SN, a code's display. */
export function valueText(observation: Observation): string {
  const value = observation.value;
  if (value === undefined) return '';
  if (typeof value === 'number') return formatDecimal(value);
  if (typeof value === 'string') return value;
  if ('comparator' in value) return `${value.comparator === '=' ? '' : value.comparator}${formatDecimal(value.number)}`;
  return value.display ?? value.code;
}

/** The code a GP's software files the result under: LOINC when mapped, else the device's own. */
export function analysisCode(observation: Observation): Code {
  return observation.code ?? observation.deviceCode;
}

export function isLoinc(code: Code): boolean {
  return code.system === 'LN' || code.system === 'LOINC' || code.system === '2.16.840.1.113883.6.1';
}

/** The label printed for a result: the LOINC display, else the device's. */
export function analysisLabel(observation: Observation): string {
  return observation.code?.display ?? observation.deviceCode.display ?? analysisCode(observation).code;
}

export function flagsOf(observation: Observation): AbnormalFlag[] {
  return observation.flags ?? [];
}

/** The patient's INS (NIR), when the result carries one. */
export function insOf(patient: Patient): string | undefined {
  return patient.identifiers.find((i) => i.type === 'INS-NIR' || /1\.2\.250\.1\.213\.1\.4\.8$/.test(i.authority ?? ''))?.value;
}

/** The site's own patient id (IPP): the first identifier that is not an INS. */
export function localIdOf(patient: Patient): string | undefined {
  return patient.identifiers.find((i) => !(i.type?.startsWith('INS') ?? false) && !/1\.2\.250\.1\.213\.1\.4\.[89]$/.test(i.authority ?? ''))?.value;
}

export interface SkippedResult {
  resultId: string;
  reason: string;
}

export interface ReportPlan {
  reports: GpReport[];
  /** Results, or observations of them, that are not sent, and why. */
  skipped: SkippedResult[];
}

export interface PlanOptions {
  timeZone?: string;
}

/**
 * Groups results into reports: one per patient and visit (the order's placer number, else the
 * day of collection in the site's time zone), corrections apart. Only final observations of
 * final results go (corrected ones in a correction); the rest is listed in `skipped`, and so is
 * a result whose patient is unknown or not matched.
 */
export function planReports(results: readonly Result[], options: PlanOptions = {}): ReportPlan {
  const skipped: SkippedResult[] = [];
  const groups = new Map<string, Result[]>();
  for (const result of results) {
    const refusal = refusalOf(result);
    if (refusal) {
      skipped.push({ resultId: result.id, reason: refusal });
      continue;
    }
    const key = `${visitKey(result, options.timeZone)}#${result.status === 'corrected' ? 'correction' : 'final'}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  const reports: GpReport[] = [];
  for (const [key, group] of groups) {
    const correction = key.endsWith('#correction');
    const wanted = correction ? ['F', 'C'] : ['F'];
    const items: ReportItem[] = [];
    for (const result of group) {
      for (const observation of result.observations) {
        if (wanted.includes(observation.status)) items.push({ resultId: result.id, observation, ...(result.order?.code ? { battery: result.order.code } : {}) });
        else skipped.push({ resultId: result.id, reason: `observation ${observation.deviceCode.code} has status ${observation.status}, not final` });
      }
    }
    if (items.length === 0) continue;
    reports.push(reportOf(key.replace(/#.*$/, ''), group, items, correction));
  }
  return { reports, skipped };
}

function refusalOf(result: Result): string | undefined {
  if (result.kind !== 'biology') return `a ${result.kind} result is not a biology report`;
  if (result.status !== 'final' && result.status !== 'corrected') return `result status is ${result.status}`;
  if (!result.patient) return 'no patient';
  if (!result.patient.matched) return 'patient not matched: held until a person assigns it';
  return undefined;
}

function patientKey(patient: Patient): string {
  const id = insOf(patient) ?? `${patient.identifiers[0]?.authority ?? ''}|${patient.identifiers[0]?.value ?? ''}`;
  return id;
}

function visitKey(result: Result, timeZone?: string): string {
  const order = result.order?.placerNumber ?? result.order?.accessionNumber;
  if (order) return `${patientKey(result.patient!)}/order/${order}`;
  const day = wallClock(result.specimen?.collectedAt ?? result.times.collected ?? result.times.received, timeZone);
  return `${patientKey(result.patient!)}/day/${day.year}${day.month}${day.day}`;
}

/** A stable UUID-shaped id from text (SHA-256 based): the same visit gives the same set id. */
export function stableId(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The id of the document that carried exactly these results. */
export function documentIdFor(resultIds: readonly string[]): string {
  return stableId(`doc:${[...resultIds].sort().join(',')}`);
}

function reportOf(key: string, group: Result[], items: ReportItem[], correction: boolean): GpReport {
  const first = group[0];
  const latest = (values: Array<string | undefined>) => values.filter((v): v is string => !!v).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
  const earliest = (values: Array<string | undefined>) => values.filter((v): v is string => !!v).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  const receivedAt = latest(group.map((r) => r.times.received))!;
  const report: GpReport = {
    documentId: documentIdFor(group.map((r) => r.id)),
    setId: stableId(`set:${key}`),
    version: correction ? 2 : 1,
    correction,
    replaces: correction ? group.map((r) => r.replaces).filter((r): r is string => !!r) : [],
    patient: first.patient!,
    site: first.source.site,
    receivedAt,
    reportedAt: latest(items.map((i) => i.observation.observedAt)) ?? receivedAt,
    items,
  };
  const gp = group.map((r) => r.patient?.gp).find((g) => g);
  if (gp) report.gp = gp;
  const prescriber = group.map((r) => r.order?.orderingProvider).find((p) => p);
  if (prescriber) report.prescriber = prescriber;
  const orderNumber = first.order?.placerNumber ?? first.order?.accessionNumber;
  if (orderNumber) report.orderNumber = orderNumber;
  const specimenId = first.specimen?.id;
  if (specimenId) report.specimenId = specimenId;
  const collectedAt = earliest(group.map((r) => r.specimen?.collectedAt ?? r.times.collected));
  if (collectedAt) report.collectedAt = collectedAt;
  return report;
}
