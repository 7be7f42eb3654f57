/**
 * Results to the patient's GP: the formats GP software imports (HPRIM Médecin, HPRIM Santé 2.2,
 * CDA R2 CR-BIO, a readable PDF), each with a writer and an independent reader, and who the GP
 * is (directory, record messages). Plain TypeScript, no Node-RED. See docs/gp.md.
 */
export { GpFormatError, GpReadError, GpDirectoryError } from './errors';
export { planReports, valueText, documentIdFor, stableId, subjectOf, cannotCarry, FORMAT_SUBJECTS, DEFAULT_SEND_RULES, type SendRules, type ReportSubject, type PlanOptions, type GpReport, type ReportItem, type ReportPlan, type ReadReport, type ReadResult, type SkippedResult } from './report';
export { toLatin1, formatDecimal, type Latin1Text } from './text';
export { writeHprimMedecin, type HprimMedecinOptions, type WrittenFile } from './hprim-medecin/writer';
export { readHprimMedecin, type HprimMedecinFile } from './hprim-medecin/reader';
export { writeHprimSante, type HprimSanteOptions } from './hprim-sante/writer';
export { readHprimSante, type HprimSanteMessage, type HprimRecord } from './hprim-sante/reader';
export { writeCdaCrBio, uuidOid, type CdaOptions, type WrittenCda } from './cda/writer';
export { readCdaCrBio, type CdaDocument, type CdaResult } from './cda/reader';
export { checkCrBioRules } from './cda/rules';
export { writePdf, type PdfOptions, type WrittenPdf } from './pdf/writer';
export * from './directory';
