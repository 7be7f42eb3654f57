/** The readable PDF of a GP report: wording and layout in one place. */

import type { ReportSubject } from '../report';

/** The title and the file name's prefix, by what the report is. */
export const TITLES: Record<ReportSubject, string> = {
  biology: 'Compte rendu de biologie délocalisée',
  teleconsultation: 'Compte rendu de téléconsultation',
  imaging: "Notification d'examen d'imagerie",
};
export const FILE_PREFIXES: Record<ReportSubject, string> = { biology: 'CR-BIO', teleconsultation: 'CR-TLC', imaging: 'IMAGERIE' };
/** The line that says when it was done, by what the report is. */
export const WHEN_LABELS: Record<ReportSubject, string> = { biology: 'Prélèvement', teleconsultation: 'Téléconsultation', imaging: 'Examen' };
export const CORRECTION_BANNER = 'COMPTE RENDU RECTIFICATIF : annule et remplace le précédent';
export const LABELS = {
  patient: 'Patient',
  birthName: 'Nom de naissance',
  birthDate: 'Né(e) le',
  sex: 'Sexe',
  ins: 'INS',
  gp: 'Médecin traitant',
  prescriber: 'Prescripteur',
  validated: 'Validé le',
  site: 'Site',
  document: 'Document',
} as const;
export const COLUMNS = [
  { title: 'Analyse', width: 190 },
  { title: 'Résultat', width: 95 },
  { title: 'Unité', width: 65 },
  { title: 'Références', width: 95 },
  { title: 'Interp.', width: 50 },
] as const;
export const PAGE = { size: 'A4', margin: 50, fontSize: 10, titleSize: 15 } as const;
/** The 14 standard PDF fonts: no file to ship, WinAnsi (windows-1252) text only. */
export const STANDARD_FONT = 'Helvetica';
export const STANDARD_BOLD = 'Helvetica-Bold';
/** Characters windows-1252 adds to ISO 8859-1 in 0x80-0x9F (Œ is one): the standard fonts draw them. */
export const WIN_ANSI_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
