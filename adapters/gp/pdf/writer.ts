/**
 * The readable PDF of a GP report (pdfkit): who, by whom, when, and a table of results with
 * units, ranges and flags. With the standard fonts the text is windows-1252 (Œ included; other
 * characters transliterated and counted); give `font` (a TrueType file with wider coverage, e.g.
 * DejaVuSans) to keep every character.
 */
import PDFDocument from 'pdfkit';
import type { PersonName } from '../../model';
import { analysisLabel, flagsOf, insOf, subjectOf, valueText, type GpReport } from '../report';
import { formatDecimal, toLatin1, wallClock } from '../text';
import * as F from './format-details';

export interface PdfOptions {
  /** A TrueType font file; default the standard Helvetica. */
  font?: string;
  boldFont?: string;
  timeZone?: string;
  now?: Date;
}

export interface WrittenPdf {
  bytes: Buffer;
  fileName: string;
  transliterated: number;
  unrepresentable: number;
}

export function writePdf(report: GpReport, options: PdfOptions = {}): Promise<WrittenPdf> {
  const counts = { transliterated: 0, unrepresentable: 0 };
  const t = (text: string): string => {
    if (options.font) return text;
    let out = '';
    for (const ch of text.normalize('NFC')) {
      const cp = ch.codePointAt(0)!;
      if ((cp <= 0xff && (cp < 0x80 || cp > 0x9f)) || F.WIN_ANSI_EXTRA.includes(ch)) out += ch;
      else {
        const latin1 = toLatin1(ch);
        counts.transliterated += latin1.transliterated;
        counts.unrepresentable += latin1.unrepresentable;
        out += latin1.text.replace(/[\x80-\x9f]/g, '?');
      }
    }
    return out;
  };
  const when = (instant: string) => {
    const w = wallClock(instant, options.timeZone);
    return `${w.day}/${w.month}/${w.year} ${w.hour}:${w.minute}`;
  };
  const now = options.now ?? new Date();
  const subject = subjectOf(report);
  const doc = new PDFDocument({ size: F.PAGE.size, margin: F.PAGE.margin, lang: 'fr-FR', info: { Title: F.TITLES[subject], Producer: 'Passerelle', Creator: 'Passerelle', CreationDate: now } });
  const regular = options.font ?? F.STANDARD_FONT;
  const bold = options.boldFont ?? options.font ?? F.STANDARD_BOLD;
  const done = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = doc.page.margins.left;
  doc.font(bold).fontSize(F.PAGE.titleSize).text(t(F.TITLES[subject]));
  if (report.correction) doc.fontSize(F.PAGE.fontSize).text(t(F.CORRECTION_BANNER));
  doc.moveDown(0.5).font(regular).fontSize(F.PAGE.fontSize);
  const line = (label: string, value: string | undefined) => { if (value) doc.text(t(`${label} : ${value}`)); };
  const p = report.patient;
  line(F.LABELS.patient, nameText(p.name));
  line(F.LABELS.birthName, p.birthName);
  line(F.LABELS.birthDate, p.birthDate?.split('-').reverse().join('/'));
  line(F.LABELS.sex, p.sex);
  line(F.LABELS.ins, insOf(p));
  line(F.LABELS.gp, report.gp && [nameText(report.gp.name), report.gp.id ? `RPPS ${report.gp.id}` : undefined, report.gp.mailbox].filter(Boolean).join(', '));
  line(F.LABELS.prescriber, report.prescriber && [nameText(report.prescriber.name), report.prescriber.id ? `RPPS ${report.prescriber.id}` : undefined].filter(Boolean).join(', '));
  line(F.WHEN_LABELS[subject], report.collectedAt && when(report.collectedAt));
  line(F.LABELS.validated, when(report.reportedAt));
  line(F.LABELS.site, report.site);
  doc.moveDown();

  const row = (cells: string[], font: string) => {
    doc.font(font);
    const heights = cells.map((c, i) => doc.heightOfString(c, { width: F.COLUMNS[i].width - 6 }));
    const height = Math.max(...heights);
    if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const top = doc.y;
    let x = left;
    cells.forEach((cell, i) => {
      doc.text(cell, x, top, { width: F.COLUMNS[i].width - 6 });
      x += F.COLUMNS[i].width;
    });
    doc.x = left;
    doc.y = top + height + 4;
  };
  row(F.COLUMNS.map((c) => t(c.title)), bold);
  doc.moveTo(left, doc.y - 2).lineTo(left + F.COLUMNS.reduce((s, c) => s + c.width, 0), doc.y - 2).stroke();
  for (const { observation: o } of report.items) {
    const r = o.referenceRange;
    const range = r && (r.low !== undefined || r.high !== undefined) ? `${r.low !== undefined ? formatDecimal(r.low) : ''} - ${r.high !== undefined ? formatDecimal(r.high) : ''}` : r?.text ?? '';
    const value = valueText(o);
    // A text too wide for its column (a study UID, a viewer link) gets a line of its own, unbroken.
    if (typeof o.value === 'string' && doc.font(regular).widthOfString(t(value)) > F.COLUMNS[1].width - 6) doc.text(t(`${analysisLabel(o)} : ${value}`), left);
    else row([analysisLabel(o), value, o.unit?.display ?? o.unit?.code ?? '', range, flagsOf(o).join(' ')].map(t), regular);
    if (o.comment) doc.text(t(o.comment), left + 10);
    doc.x = left;
  }
  doc.moveDown();
  doc.font(regular).fontSize(8).text(t(`${F.LABELS.document} ${report.documentId} v${report.version}`), left);
  doc.end();
  return done.then((bytes) => ({ bytes, fileName: `${F.FILE_PREFIXES[subject]}_${report.documentId.slice(0, 8)}.pdf`, ...counts }));
}

function nameText(name: PersonName | undefined): string | undefined {
  return name ? [name.prefix, name.family, ...(name.given ?? [])].filter(Boolean).join(' ') : undefined;
}
