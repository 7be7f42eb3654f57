/**
 * What goes to a GP: point-of-care biology results grouped per patient and visit, a
 * teleconsultation's vitals (with its photo study) as one summary, an imaging study as a short
 * notification; final results only, a correction as its own report; which of them go is a
 * technician's rules (SendRules). Every format writer takes a GpReport; every reader gives
 * back a ReadReport, so tests compare the two whatever the format.
 */
import { createHash } from 'node:crypto';
import type { AbnormalFlag, Code, GeneralPractitioner, GpFormat, Observation, Patient, Provider, Result, ResultKind } from '../model';
import { formatDecimal, wallClock } from './text';

export interface ReportItem {
  resultId: string;
  observation: Observation;
  /** The battery the observation belongs to (the order's code), when known. */
  battery?: Code;
}

/** What a report is: a biology report, a teleconsultation summary, an imaging notification. */
export type ReportSubject = 'biology' | 'teleconsultation' | 'imaging';

export interface GpReport {
  /** Absent in reports made before there was more than biology: biology. */
  subject?: ReportSubject;
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

/** What a technician lets go to the GP (the "GP message" node's dialog). */
export interface SendRules {
  biology: boolean;
  /** A teleconsultation's vitals, as its summary (with its photo study when it is among the results). */
  vitals: boolean;
  /** An imaging study on its own, as a notification. */
  imaging: boolean;
  corrections: boolean;
}

/** As before there were rules: biology and its corrections. */
export const DEFAULT_SEND_RULES: Readonly<SendRules> = { biology: true, vitals: false, imaging: false, corrections: true };

/** Which report a result kind makes, and the rule that lets it go. */
const SUBJECT_OF: Record<ResultKind, { subject: ReportSubject; rule: keyof SendRules; what: string }> = {
  biology: { subject: 'biology', rule: 'biology', what: 'biology results' },
  vitals: { subject: 'teleconsultation', rule: 'vitals', what: 'teleconsultation vitals' },
  imaging: { subject: 'imaging', rule: 'imaging', what: 'imaging notifications' },
};

export interface PlanOptions {
  timeZone?: string;
  /** Default DEFAULT_SEND_RULES. */
  rules?: Partial<SendRules>;
}

export function subjectOf(report: GpReport): ReportSubject {
  return report.subject ?? 'biology';
}

/**
 * What each format can carry: the CR-BIO (LOINC 11502-2) and HPRIM Santé are biology documents;
 * a teleconsultation summary or an imaging notification goes as HPRIM Médecin text and RES lines
 * and as the PDF.
 */
export const FORMAT_SUBJECTS: Readonly<Record<GpFormat, readonly ReportSubject[]>> = {
  'hprim-medecin': ['biology', 'teleconsultation', 'imaging'],
  pdf: ['biology', 'teleconsultation', 'imaging'],
  'hprim-sante': ['biology'],
  'cda-crbio': ['biology'],
};
const SUBJECT_NAMES: Record<ReportSubject, string> = { biology: 'a biology report', teleconsultation: 'a teleconsultation summary', imaging: 'an imaging notification' };

/** Why this format cannot carry this report (its writer refuses it), or undefined. */
export function cannotCarry(format: GpFormat, report: GpReport): string | undefined {
  const subject = subjectOf(report);
  return FORMAT_SUBJECTS[format].includes(subject) ? undefined : `${format} is a biology format: it does not carry ${SUBJECT_NAMES[subject]}`;
}

/**
 * Groups results into reports: biology per patient and visit (the order's placer number, else
 * the day of collection in the site's time zone), vitals per patient and teleconsultation (with
 * the teleconsultation's photo study when it is among the results), an imaging study on its own;
 * corrections apart. Only final observations of final results go (corrected ones in a
 * correction), and only what the rules let go; the rest is listed in `skipped`, and so is a
 * result whose patient is unknown or not matched.
 */
export function planReports(results: readonly Result[], options: PlanOptions = {}): ReportPlan {
  const rules: SendRules = { ...DEFAULT_SEND_RULES, ...options.rules };
  const skipped: SkippedResult[] = [];
  // The teleconsultations whose summary goes: their photo study goes in it, whatever the imaging rule.
  const summaries = new Set(results.filter((r) => r.kind === 'vitals' && !refusalOf(r, rules)).map(teleconsultationOf).filter((t): t is string => !!t));
  const groups = new Map<string, { subject: ReportSubject; results: Result[] }>();
  for (const result of results) {
    const teleconsultation = result.kind === 'imaging' ? teleconsultationOf(result) : undefined;
    const photo = teleconsultation !== undefined && summaries.has(teleconsultation);
    const refusal = refusalOf(result, photo ? { ...rules, imaging: true } : rules);
    if (refusal) {
      skipped.push({ resultId: result.id, reason: refusal });
      continue;
    }
    const subject = photo ? 'teleconsultation' : SUBJECT_OF[result.kind].subject;
    const key = `${visitKey(result, subject, options.timeZone)}#${result.status === 'corrected' ? 'correction' : 'final'}`;
    const group = groups.get(key) ?? { subject, results: [] };
    group.results.push(result);
    groups.set(key, group);
  }
  const reports: GpReport[] = [];
  for (const [key, { subject, results: group }] of groups) {
    const correction = key.endsWith('#correction');
    const wanted = correction ? ['F', 'C'] : ['F'];
    const items: ReportItem[] = [];
    // A summary lists the vitals first, then the photo study.
    for (const result of subject === 'teleconsultation' ? [...group].sort((a, b) => Number(a.kind === 'imaging') - Number(b.kind === 'imaging')) : group) {
      for (const observation of result.observations) {
        if (wanted.includes(observation.status)) items.push({ resultId: result.id, observation, ...(result.order?.code ? { battery: result.order.code } : {}) });
        else skipped.push({ resultId: result.id, reason: `observation ${observation.deviceCode.code} has status ${observation.status}, not final` });
      }
    }
    if (items.length === 0) continue;
    reports.push(reportOf(key.replace(/#.*$/, ''), subject, group, items, correction));
  }
  return { reports, skipped };
}

function refusalOf(result: Result, rules: SendRules): string | undefined {
  const subject = SUBJECT_OF[result.kind] as (typeof SUBJECT_OF)[ResultKind] | undefined;
  if (!subject) return `a ${result.kind} result is not something a GP is sent`;
  if (!rules[subject.rule]) return `${subject.what} are not sent to the GP (rule off in "GP message")`;
  if (result.status !== 'final' && result.status !== 'corrected') return `result status is ${result.status}`;
  if (result.status === 'corrected' && !rules.corrections) return 'corrections are not sent to the GP (rule off in "GP message")';
  if (!result.patient) return 'no patient';
  if (!result.patient.matched) return 'patient not matched: held until a person assigns it';
  return undefined;
}

/** The patient's teleconsultation a vitals or imaging result belongs to (its encounter id). */
function teleconsultationOf(result: Result): string | undefined {
  return result.patient && result.encounter?.id ? `${patientKey(result.patient)}/teleconsultation/${result.encounter.id}` : undefined;
}

function patientKey(patient: Patient): string {
  const id = insOf(patient) ?? `${patient.identifiers[0]?.authority ?? ''}|${patient.identifiers[0]?.value ?? ''}`;
  return id;
}

function visitKey(result: Result, subject: ReportSubject, timeZone?: string): string {
  const patient = patientKey(result.patient!);
  if (subject === 'imaging') return `${patient}/imaging/${result.order?.accessionNumber ?? result.id}`;
  if (subject === 'teleconsultation') {
    const teleconsultation = teleconsultationOf(result);
    if (teleconsultation) return teleconsultation;
    const day = wallClock(firstObserved(result) ?? result.times.received, timeZone);
    return `${patient}/teleconsultation-day/${day.year}${day.month}${day.day}`;
  }
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

function firstObserved(result: Result): string | undefined {
  return result.observations.map((o) => o.observedAt).filter((t): t is string => !!t).sort((a, b) => Date.parse(a) - Date.parse(b))[0] ?? result.times.analysed;
}

function reportOf(key: string, subject: ReportSubject, group: Result[], items: ReportItem[], correction: boolean): GpReport {
  const first = group[0];
  const latest = (values: Array<string | undefined>) => values.filter((v): v is string => !!v).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
  const earliest = (values: Array<string | undefined>) => values.filter((v): v is string => !!v).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  const receivedAt = latest(group.map((r) => r.times.received))!;
  const report: GpReport = {
    ...(subject === 'biology' ? {} : { subject }),
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
  // A teleconsultation or a study has no specimen: when it was done (the first measure, the exam's start).
  const collectedAt = earliest(group.map((r) => r.specimen?.collectedAt ?? r.times.collected ?? (subject === 'biology' ? undefined : firstObserved(r))));
  if (collectedAt) report.collectedAt = collectedAt;
  return report;
}
