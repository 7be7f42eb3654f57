/**
 * The files one GP gets for one report, in the formats their software imports (the directory's
 * preferred formats): HPRIM Médecin and HPRIM Santé as ISO 8859-1 bytes, the CR-BIO inside an
 * IHE_XDM.ZIP, the readable PDF. Shared by the mail and the folder drop. A format that cannot be
 * written for this report (a CDA without INS) is listed in `omitted`, never dropped silently.
 */
import type { GpFormat, Provider } from '../../model';
import { GpFormatError } from '../errors';
import type { GpReport } from '../report';
import { writeHprimMedecin } from '../hprim-medecin/writer';
import { writeHprimSante } from '../hprim-sante/writer';
import { writeCdaCrBio, type CdaOptions } from '../cda/writer';
import { writePdf } from '../pdf/writer';
import { crBioPackage, insQualified, writeXdm } from '../xdm/writer';
import * as X from '../xdm/format-details';

/** The sending site, as every format needs it. */
export interface GpSender {
  /** The site's FINESS (or other id under idRoot) and name. */
  organization: CdaOptions['organization'];
  /** The doctor who validates point-of-care results at the site (RPPS). */
  responsible: Provider;
  /** HPRIM sender code (≤ 10 characters). */
  hprimCode: string;
  ippRoot?: string;
  /** Product name and version, for README.TXT. */
  product: string;
  timeZone?: string;
  /** A TrueType font for the PDF (every character kept); default the standard Helvetica. */
  pdfFont?: string;
}

export interface GpFile {
  fileName: string;
  contentType: string;
  bytes: Buffer;
  format: GpFormat;
}

export interface GpFiles {
  files: GpFile[];
  /** Formats asked for and not written, with the reason. */
  omitted: Array<{ format: GpFormat; reason: string }>;
  /** The CDA codes inside an XDM (X-MSS-CODECDA), and whether it names the patient by a qualified INS (X-MSS-INS). */
  cdaCodes: string[];
  insQualified?: boolean;
}

/** When the directory says nothing: both, as the research notes recommend (§0). */
export const DEFAULT_FORMATS: readonly GpFormat[] = ['hprim-medecin', 'cda-crbio'];

export async function gpFiles(report: GpReport, sender: GpSender, options: { recipientCode?: string; now?: Date } = {}): Promise<GpFiles> {
  const formats = report.gp?.formats?.length ? report.gp.formats : DEFAULT_FORMATS;
  const out: GpFiles = { files: [], omitted: [], cdaCodes: [] };
  const now = options.now ?? new Date();
  for (const format of new Set(formats)) {
    try {
      if (format === 'hprim-medecin') {
        const f = writeHprimMedecin(report, { sender: { code: sender.hprimCode, name: sender.organization.name }, recipientCode: options.recipientCode, timeZone: sender.timeZone });
        out.files.push({ fileName: f.fileName, contentType: X.HPRIM_MIME_TYPE, bytes: f.bytes, format });
      } else if (format === 'hprim-sante') {
        const f = writeHprimSante(report, { sender: { code: sender.hprimCode, name: sender.organization.name }, timeZone: sender.timeZone, now });
        out.files.push({ fileName: f.fileName, contentType: X.HPRIM_MIME_TYPE, bytes: f.bytes, format });
      } else if (format === 'cda-crbio') {
        const cda = writeCdaCrBio(report, { organization: sender.organization, responsible: sender.responsible, ippRoot: sender.ippRoot, timeZone: sender.timeZone, now });
        const pkg = crBioPackage(report, cda, { organization: sender.organization, responsible: sender.responsible, product: sender.product, now });
        const xdm = await writeXdm(pkg);
        out.files.push({ fileName: xdm.fileName, contentType: X.ARCHIVE_MIME_TYPE, bytes: xdm.bytes, format });
        out.cdaCodes.push(...xdm.cdaCodes);
        out.insQualified = insQualified(pkg.patient);
      } else if (format === 'pdf') {
        const f = await writePdf(report, { font: sender.pdfFont, timeZone: sender.timeZone, now });
        out.files.push({ fileName: f.fileName, contentType: X.PDF_MIME_TYPE, bytes: f.bytes, format });
      }
    } catch (err) {
      if (!(err instanceof GpFormatError)) throw err;
      out.omitted.push({ format, reason: err.message });
    }
  }
  if (out.files.length === 0) throw new GpFormatError(`no file could be written for this GP: ${out.omitted.map((o) => `${o.format}: ${o.reason}`).join('; ')}`);
  return out;
}

export const GP_FILES_SCHEMA = 'passerelle.gp-files/1';

/** A report and its files as a message between nodes (JSON: files in base64). */
export interface GpFilesMessage {
  schema: typeof GP_FILES_SCHEMA;
  report: GpReport;
  files: Array<{ fileName: string; contentType: string; format: GpFormat; base64: string }>;
  omitted: GpFiles['omitted'];
  cdaCodes: string[];
  insQualified?: boolean;
}

export function encodeGpFiles(report: GpReport, files: GpFiles): GpFilesMessage {
  const message: GpFilesMessage = {
    schema: GP_FILES_SCHEMA,
    report,
    files: files.files.map((f) => ({ fileName: f.fileName, contentType: f.contentType, format: f.format, base64: f.bytes.toString('base64') })),
    omitted: files.omitted,
    cdaCodes: files.cdaCodes,
  };
  if (files.insQualified !== undefined) message.insQualified = files.insQualified;
  return message;
}

/** Checks what a wire brought: a report with a GP and at least one file. */
export function decodeGpFiles(value: unknown): { report: GpReport; files: GpFiles } {
  const m = value as Partial<GpFilesMessage> | null;
  if (typeof m !== 'object' || m === null || m.schema !== GP_FILES_SCHEMA) throw new GpFormatError(`not a ${GP_FILES_SCHEMA} message (wire a "GP message" node before this one)`);
  if (typeof m.report?.documentId !== 'string' || !Array.isArray(m.report.items)) throw new GpFormatError('the message has no report');
  if (!m.report.gp) throw new GpFormatError('the report has no GP');
  if (!Array.isArray(m.files) || m.files.length === 0 || !m.files.every((f) => typeof f?.fileName === 'string' && typeof f.base64 === 'string')) throw new GpFormatError('the message has no files');
  const files: GpFiles = {
    files: m.files.map((f) => ({ fileName: f.fileName, contentType: String(f.contentType), format: f.format, bytes: Buffer.from(f.base64, 'base64') })),
    omitted: Array.isArray(m.omitted) ? m.omitted : [],
    cdaCodes: Array.isArray(m.cdaCodes) ? m.cdaCodes.map(String) : [],
  };
  if (typeof m.insQualified === 'boolean') files.insQualified = m.insQualified;
  return { report: m.report, files };
}
