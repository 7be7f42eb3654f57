/**
 * The GP directory a technician edits: the territory's GPs (RPPS, name, MSSanté mailbox, the
 * formats their software imports) and which patient has which GP. Data, loaded and checked here;
 * the node that edits it comes later. See docs/gp.md for the file.
 */
import { GP_FORMATS, type GeneralPractitioner, type GpFormat, type PersonName } from '../../model';
import { GpDirectoryError } from '../errors';
import { checkMailbox } from './mailbox';

export const GP_DIRECTORY_SCHEMA = 'passerelle.gp-directory/1';

export interface DirectoryDoctor {
  rpps: string;
  name: PersonName;
  mailbox: string;
  formats: GpFormat[];
  /** The recipient code the GP's HPRIM software expects on header line 12 (≤ 10 characters). */
  hprimCode?: string;
}

export interface DirectoryPatientLink {
  /** A patient identifier value (INS or IPP) and, optionally, its authority. */
  identifier: string;
  authority?: string;
  rpps: string;
}

export interface GpDirectory {
  doctors: Map<string, DirectoryDoctor>;
  patients: DirectoryPatientLink[];
  /** Things worth a look that do not stop loading (a mailbox outside MSSanté, ...). */
  warnings: string[];
}

/** Loads a directory from its JSON value, or throws GpDirectoryError listing every problem. */
export function loadGpDirectory(value: unknown): GpDirectory {
  const problems: string[] = [];
  const warnings: string[] = [];
  const doctors = new Map<string, DirectoryDoctor>();
  const patients: DirectoryPatientLink[] = [];
  const root = value as { schema?: unknown; doctors?: unknown; patients?: unknown } | null;
  if (typeof root !== 'object' || root === null) throw new GpDirectoryError(['not a JSON object']);
  if (root.schema !== GP_DIRECTORY_SCHEMA) problems.push(`schema must be "${GP_DIRECTORY_SCHEMA}"`);
  if (!Array.isArray(root.doctors)) problems.push('doctors must be a list');
  for (const [i, raw] of (Array.isArray(root.doctors) ? root.doctors : []).entries()) {
    const at = `doctors[${i}]`;
    const d = raw as Partial<DirectoryDoctor> | null;
    if (typeof d !== 'object' || d === null) {
      problems.push(`${at} is not an object`);
      continue;
    }
    const before = problems.length;
    if (typeof d.rpps !== 'string' || !/^\d{11}$/.test(d.rpps)) problems.push(`${at}.rpps must be an RPPS number (11 digits)`);
    else if (doctors.has(d.rpps)) problems.push(`${at}.rpps is listed twice`);
    if (typeof d.name?.family !== 'string' || d.name.family.trim() === '') problems.push(`${at}.name.family is required`);
    if (typeof d.mailbox !== 'string') problems.push(`${at}.mailbox is required`);
    else {
      const check = checkMailbox(d.mailbox);
      if (!check.ok) problems.push(`${at}.mailbox is not a valid mailbox: ${check.reason}`);
      else if (!check.mssante) warnings.push(`${at}.mailbox is outside the MSSanté domains (*.mssante.fr)`);
    }
    if (!Array.isArray(d.formats) || d.formats.length === 0 || !d.formats.every((f) => GP_FORMATS.includes(f))) {
      problems.push(`${at}.formats must list one or more of ${GP_FORMATS.join(', ')}`);
    }
    if (d.hprimCode !== undefined && (typeof d.hprimCode !== 'string' || d.hprimCode.length > 10 || /[\r\n|]/.test(d.hprimCode))) {
      problems.push(`${at}.hprimCode must be at most 10 characters on one line`);
    }
    if (problems.length === before) doctors.set(d.rpps!, d as DirectoryDoctor);
  }
  for (const [i, raw] of (Array.isArray(root.patients) ? root.patients : []).entries()) {
    const at = `patients[${i}]`;
    const p = raw as Partial<DirectoryPatientLink> | null;
    if (typeof p?.identifier !== 'string' || p.identifier.trim() === '') problems.push(`${at}.identifier is required`);
    else if (typeof p.rpps !== 'string' || !doctors.has(p.rpps)) problems.push(`${at}.rpps names no doctor of the directory`);
    else patients.push(p as DirectoryPatientLink);
  }
  if (root.patients !== undefined && !Array.isArray(root.patients)) problems.push('patients must be a list');
  if (problems.length > 0) throw new GpDirectoryError(problems);
  return { doctors, patients, warnings };
}

/** The directory's doctor as the canonical GP. */
export function gpFromDirectory(doctor: DirectoryDoctor, from = 'directory'): GeneralPractitioner {
  return { id: doctor.rpps, authority: 'RPPS', name: doctor.name, mailbox: doctor.mailbox, formats: doctor.formats, from };
}
