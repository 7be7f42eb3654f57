/**
 * What is sent beyond biology, and the rules: a teleconsultation's vitals (with its photo study)
 * as one summary, an imaging study as a notification, each read back by the HPRIM Médecin reader
 * and by poppler's pdftotext; what a rule keeps back and what a CDA-only GP cannot get, listed.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { formatDecimal, GpFormatError, planReports, readHprimMedecin, writeCdaCrBio, writeHprimMedecin, writeHprimSante, writePdf } from '../../../adapters/gp';
import { gpFiles } from '../../../adapters/gp/mail';
import { ACCESSION_NUMBER_CODE, STUDY_INSTANCE_UID_CODE, VIEWER_LINK_CODE } from '../../../adapters/dicom/study-result';
import { validateResult, type Observation, type Result } from '../../../adapters/model';
import { toObservation } from '../../../adapters/vitals/measurement';
import { vitalsResult } from '../../../adapters/vitals/result';
import { cdaOptions, exampleResult, hprimMedecinOptions, hprimSanteOptions, NOW, SENDER } from './fixtures';
import { pdfText } from './support';

const TELECONSULTATION = 'TLC-2026-0042';
const AT = '2026-11-23T10:05:00+01:00';

/** A cart's vitals for NOËL Hélène in teleconsultation TLC-2026-0042; the temperature labelled in French. */
function vitals(id = 'vitals-1', encounter = TELECONSULTATION): Result {
  const temperature = toObservation({ quantity: 'body-temperature', value: 38.4, unit: 'Cel', time: AT });
  temperature.code = { ...temperature.code!, display: 'Température corporelle' };
  const observations = [
    toObservation({ quantity: 'nibp-systolic', value: 128, unit: 'mm[Hg]', time: AT }),
    toObservation({ quantity: 'spo2', value: 97, unit: '%', time: AT }),
    temperature,
    toObservation({ quantity: 'heart-rate', value: 82, unit: '/min', time: AT }),
  ];
  return validateResult(vitalsResult({ id, patient: exampleResult().patient, encounter: { id: encounter }, observations }, { site: 'cso-annecy', deviceId: 'cart-1', deviceClass: 'cart', protocol: 'cart-json', receivedAt: new Date('2026-11-23T09:06:00Z') }));
}

/** The photo study of the teleconsultation, as adapters/dicom/study-result.ts makes it. */
function study(id = 'study-1', encounter: string | null = TELECONSULTATION): Result {
  const observation = (deviceCode: Observation['deviceCode'], value: string): Observation => ({ deviceCode: { ...deviceCode }, valueType: 'ST', value, status: 'F', observedAt: '2026-11-23T10:12:00+01:00' });
  return validateResult({
    schema: 'passerelle.result/1', id, kind: 'imaging', status: 'final',
    source: { site: 'cso-annecy', deviceClass: 'modality', deviceId: 'dermatoscope-1', protocol: 'dicom' },
    patient: exampleResult().patient,
    ...(encounter ? { encounter: { id: encounter } } : {}),
    order: { accessionNumber: 'ACC-77812' },
    observations: [
      observation(ACCESSION_NUMBER_CODE, 'ACC-77812'),
      observation(STUDY_INSTANCE_UID_CODE, '1.2.826.0.1.3680043.8.498.1234567'),
      observation(VIEWER_LINK_CODE, 'https://pacs.example/v?s=1.2.826.0.1.3680043.8.498.1234567'),
    ],
    times: { received: '2026-11-23T10:13:00+01:00', collected: '2026-11-23T10:10:00+01:00' },
  });
}

const ALL = { biology: true, vitals: true, imaging: true, corrections: true };

describe('what is sent beyond biology: the teleconsultation summary, the imaging notification, the rules', () => {
  it("a teleconsultation's vitals and its photo study: one summary with every value, unit and accented name in HPRIM Médecin and the PDF", async () => {
    const { reports, skipped } = planReports([vitals(), study()], { rules: { vitals: true } });
    expect(skipped).to.deep.equal([]);
    expect(reports).to.have.length(1);
    const [report] = reports;
    expect(report).to.include({ subject: 'teleconsultation', correction: false, collectedAt: AT });
    expect(report.items.map((i) => i.resultId)).to.deep.equal(['vitals-1', 'vitals-1', 'vitals-1', 'vitals-1', 'study-1', 'study-1', 'study-1']);

    const hprim = readHprimMedecin(writeHprimMedecin(report, hprimMedecinOptions).bytes);
    expect([hprim.patient.family, hprim.patient.given]).to.deep.equal(['NOËL', 'Hélène']);
    expect(hprim.text[0]).to.equal('COMPTE RENDU DE TELECONSULTATION');
    expect(hprim.text).to.include('Téléconsultation : 23/11/2026 10:05');
    expect(hprim.results.map((r) => [r.code, r.label, r.value, r.unit ?? '', r.status])).to.deep.equal([
      ['8480-6', 'Systolic blood pressure', '128', 'mm[Hg]', 'F'],
      ['2708-6', 'Oxygen saturation in Arterial blood', '97', '%', 'F'],
      ['8310-5', 'Température corporelle', '38.4', 'Cel', 'F'],
      ['8867-4', 'Heart rate', '82', '/min', 'F'],
      ['121022', 'Accession Number', 'ACC-77812', '', 'F'],
      ['110180', 'Study Instance UID', '1.2.826.0.1.3680043.8.498.1234567', '', 'F'],
      ['VIEWER-URL', 'Lien de visualisation', 'https://pacs.example/v?s=1.2.826.0.1.3680043.8.498.1234567', '', 'F'],
    ]);

    const pdf = await writePdf(report, { timeZone: 'Europe/Paris', now: NOW });
    expect(pdf.fileName).to.match(/^CR-TLC_[0-9a-f]{8}\.pdf$/);
    const text = pdfText(pdf.bytes);
    expect(text).to.contain('Compte rendu de téléconsultation');
    expect(text).to.contain('Patient : NOËL Hélène Françoise');
    expect(text).to.contain('Téléconsultation : 23/11/2026 10:05');
    for (const [label, value, unit] of [['Systolic blood pressure', '128', 'mm[Hg]'], ['Température corporelle', '38.4', 'Cel'], ['Heart rate', '82', '/min'], ['Accession Number', 'ACC-77812', '']]) {
      expect(text).to.match(new RegExp(`${label.replace(/[[\]]/g, '\\$&')}\\s+${value}\\s+${unit.replace(/[[\]]/g, '\\$&')}`), label);
    }
    expect(text).to.match(/Oxygen saturation in Arterial blood\s+97\s+%/);
    // The study's UID and link on lines of their own, unbroken.
    expect(text).to.contain('Study Instance UID : 1.2.826.0.1.3680043.8.498.1234567');
    expect(text).to.contain('Lien de visualisation : https://pacs.example/v?s=1.2.826.0.1.3680043.8.498.1234567');
  });

  it('an imaging study on its own: a notification with the accession number, the study UID and the link', async () => {
    const { reports, skipped } = planReports([study('study-2', null)], { rules: { imaging: true } });
    expect(skipped).to.deep.equal([]);
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ subject: 'imaging', orderNumber: 'ACC-77812', collectedAt: '2026-11-23T10:10:00+01:00' });
    const hprim = readHprimMedecin(writeHprimMedecin(reports[0], hprimMedecinOptions).bytes);
    expect(hprim.text[0]).to.equal("NOTIFICATION D'EXAMEN D'IMAGERIE");
    expect(hprim.fileNumber).to.equal('ACC-77812');
    expect(hprim.results.map((r) => [r.code, r.value])).to.deep.equal([
      ['121022', 'ACC-77812'],
      ['110180', '1.2.826.0.1.3680043.8.498.1234567'],
      ['VIEWER-URL', 'https://pacs.example/v?s=1.2.826.0.1.3680043.8.498.1234567'],
    ]);
    const text = pdfText((await writePdf(reports[0], { now: NOW })).bytes);
    expect(text).to.contain("Notification d'examen d'imagerie");
    expect(text).to.match(/Accession Number\s+ACC-77812/);
    expect(text).to.contain('Study Instance UID : 1.2.826.0.1.3680043.8.498.1234567');
    // A study without a teleconsultation of this batch is not pulled into a summary.
    expect(planReports([vitals(), study('study-3', 'TLC-OTHER')], { rules: ALL }).reports.map((r) => r.subject)).to.deep.equal(['teleconsultation', 'imaging']);
  });

  it('rules off: what they keep back is listed in skipped with the reason', () => {
    const corrected = exampleResult();
    corrected.id = 'corr-1';
    corrected.status = 'corrected';
    corrected.replaces = exampleResult().id;
    corrected.observations = [{ ...corrected.observations[1], status: 'C' }];
    const results = [vitals(), study('study-2', null), exampleResult(), corrected];
    // The defaults: biology and corrections, as before the rules.
    const defaults = planReports(results);
    expect(defaults.reports.map((r) => [r.subject ?? 'biology', r.correction])).to.deep.equal([['biology', false], ['biology', true]]);
    expect(defaults.skipped.filter((s) => !s.reason.startsWith('observation'))).to.deep.equal([
      { resultId: 'vitals-1', reason: 'teleconsultation vitals are not sent to the GP (rule off in "GP message")' },
      { resultId: 'study-2', reason: 'imaging notifications are not sent to the GP (rule off in "GP message")' },
    ]);
    const noBiology = planReports(results, { rules: { biology: false, corrections: false, vitals: true } });
    expect(noBiology.reports.map((r) => r.subject)).to.deep.equal(['teleconsultation']);
    expect(noBiology.skipped.map((s) => [s.resultId, s.reason])).to.deep.equal([
      ['study-2', 'imaging notifications are not sent to the GP (rule off in "GP message")'],
      [exampleResult().id, 'biology results are not sent to the GP (rule off in "GP message")'],
      ['corr-1', 'biology results are not sent to the GP (rule off in "GP message")'],
    ]);
    const noCorrections = planReports(results, { rules: { corrections: false } });
    expect(noCorrections.reports.map((r) => r.correction)).to.deep.equal([false]);
    expect(noCorrections.skipped.find((s) => s.resultId === 'corr-1')).to.deep.equal({ resultId: 'corr-1', reason: 'corrections are not sent to the GP (rule off in "GP message")' });
    // The photo study goes in its teleconsultation's summary even with imaging notifications off.
    expect(planReports([vitals(), study()], { rules: { vitals: true, imaging: false } }).skipped).to.deep.equal([]);
  });

  it('the CDA CR-BIO never carries vitals or imaging: listed as omitted, and a CDA-only GP gets a clear error instead of a file', async () => {
    const [summary] = planReports([vitals(), study()], { rules: { vitals: true } }).reports;
    // The writers themselves refuse: no caller can make a CR-BIO of vitals.
    expect(() => writeCdaCrBio(summary, cdaOptions)).to.throw(GpFormatError, 'cda-crbio is a biology format: it does not carry a teleconsultation summary');
    expect(() => writeHprimSante(summary, hprimSanteOptions)).to.throw(GpFormatError, 'hprim-sante is a biology format');
    const both = await gpFiles({ ...summary, gp: { ...summary.gp!, formats: ['cda-crbio', 'hprim-medecin', 'pdf'] } }, SENDER, { now: NOW });
    expect(both.files.map((f) => f.format)).to.deep.equal(['hprim-medecin', 'pdf']);
    expect(both.cdaCodes).to.deep.equal([]);
    expect(both.omitted).to.deep.equal([{ format: 'cda-crbio', reason: 'cda-crbio is a biology format: it does not carry a teleconsultation summary' }]);
    let refused: unknown;
    await gpFiles({ ...summary, gp: { ...summary.gp!, formats: ['cda-crbio'] } }, SENDER, { now: NOW }).catch((err: unknown) => { refused = err; });
    expect(refused).to.be.instanceOf(GpFormatError);
    expect((refused as Error).message).to.equal('no file could be written for this GP: cda-crbio: cda-crbio is a biology format: it does not carry a teleconsultation summary');
    const [notice] = planReports([study('study-2', null)], { rules: { imaging: true } }).reports;
    const sante = await gpFiles({ ...notice, gp: { ...notice.gp!, formats: ['hprim-sante', 'hprim-medecin'] } }, SENDER, { now: NOW });
    expect(sante.omitted.map((o) => o.reason)).to.deep.equal(['hprim-sante is a biology format: it does not carry an imaging notification']);
  });

  it('property: any teleconsultation vitals read back from HPRIM Médecin as written (label, value, unit)', () => {
    const label = fc.string({ unit: fc.constantFrom(...'abcdéèêëàçôœŒÉ -/()'.split('')), minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s.trim() !== '');
    const measure = fc.record({ label, value: fc.double({ noNaN: true, noDefaultInfinity: true }), unit: fc.constantFrom('mm[Hg]', '%', 'Cel', '/min', 'kg', 'cm', '[in_i]') });
    fc.assert(fc.property(fc.array(measure, { minLength: 1, maxLength: 8 }), fc.constantFrom('TLC-1', 'TLC-É2'), (measures, encounter) => {
      const result = vitals('v', encounter);
      result.observations = measures.map((m, i) => ({ ...toObservation({ quantity: 'heart-rate', value: m.value, unit: m.unit, time: AT }), code: { code: `X${i}`, system: 'LN', display: m.label }, unit: { code: m.unit, system: 'UCUM' } }));
      const { reports } = planReports([result], { rules: { vitals: true } });
      const read = readHprimMedecin(writeHprimMedecin(reports[0], hprimMedecinOptions).bytes);
      // Œ/œ are outside ISO 8859-1: HPRIM transliterates them (OE/oe); everything else exact.
      expect(read.results.map((r) => [r.label, r.value, r.unit])).to.deep.equal(measures.map((m) => [m.label.replace(/Œ/g, 'OE').replace(/œ/g, 'oe'), formatDecimal(m.value), m.unit]));
    }), { numRuns: 300 });
  });
});
