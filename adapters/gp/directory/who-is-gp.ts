/**
 * Who is the GP of a report's patient: the directory's patient link first (a technician's word
 * wins), then the GP the record's messages named (completed from the directory by RPPS). A
 * report whose GP is unknown, or known without a valid secure address, is listed, never dropped.
 */
import type { GeneralPractitioner, Patient } from '../../model';
import type { GpReport } from '../report';
import { gpFromDirectory, type GpDirectory } from './directory';
import { checkMailbox } from './mailbox';

export type GpResolution = { ok: true; gp: GeneralPractitioner; hprimCode?: string } | { ok: false; gp?: GeneralPractitioner; reason: string };

export function resolveGp(patient: Patient, fromMessages: GeneralPractitioner | undefined, directory?: GpDirectory): GpResolution {
  const linked = directory?.patients.find((link) =>
    patient.identifiers.some((id) => id.value === link.identifier && (link.authority === undefined || id.authority === link.authority)));
  if (linked) {
    const doctor = directory!.doctors.get(linked.rpps)!;
    return { ok: true, gp: gpFromDirectory(doctor), ...(doctor.hprimCode ? { hprimCode: doctor.hprimCode } : {}) };
  }
  if (!fromMessages) return { ok: false, reason: 'no GP known for this patient (none in the record\'s messages, none in the directory)' };
  const doctor = fromMessages.id ? directory?.doctors.get(fromMessages.id) : undefined;
  const gp: GeneralPractitioner = doctor
    ? { ...gpFromDirectory(doctor, fromMessages.from ? `${fromMessages.from}+directory` : 'directory'), name: fromMessages.name ?? doctor.name }
    : fromMessages;
  if (!gp.mailbox) return { ok: false, gp, reason: 'the GP is known but has no secure messaging address (add the GP to the directory)' };
  const check = checkMailbox(gp.mailbox);
  if (!check.ok) return { ok: false, gp, reason: `the GP's secure messaging address is not a valid mailbox: ${check.reason}` };
  return { ok: true, gp, ...(doctor?.hprimCode ? { hprimCode: doctor.hprimCode } : {}) };
}

export interface WithoutGp {
  documentId: string;
  resultIds: string[];
  reason: string;
}

/** Gives each report its GP; reports with none come back in `withoutGp` with the reason. */
export function assignGps(reports: readonly GpReport[], directory?: GpDirectory): { ready: Array<{ report: GpReport; hprimCode?: string }>; withoutGp: WithoutGp[] } {
  const ready: Array<{ report: GpReport; hprimCode?: string }> = [];
  const withoutGp: WithoutGp[] = [];
  for (const report of reports) {
    const resolution = resolveGp(report.patient, report.gp, directory);
    if (resolution.ok) ready.push({ report: { ...report, gp: resolution.gp }, ...(resolution.hprimCode ? { hprimCode: resolution.hprimCode } : {}) });
    else withoutGp.push({ documentId: report.documentId, resultIds: [...new Set(report.items.map((i) => i.resultId))], reason: resolution.reason });
  }
  return { ready, withoutGp };
}
