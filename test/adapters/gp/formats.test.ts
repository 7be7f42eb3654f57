import { expect } from 'chai';
import {
  checkCrBioRules, GpFormatError, GpReadError, planReports, readCdaCrBio, readHprimMedecin, readHprimSante,
  writeCdaCrBio, writeHprimMedecin, writeHprimSante, writePdf, type GpReport,
} from '../../../adapters/gp';
import { cdaOptions, exampleResult, hprimMedecinOptions, hprimSanteOptions, NOW } from './fixtures';
import { pdfText, xmllintProblems, xpath } from './support';

const report = (): GpReport => planReports([exampleResult()]).reports[0];
const correction = (): GpReport => {
  const original = exampleResult();
  const corrected = exampleResult();
  corrected.id = 'corr-1';
  corrected.status = 'corrected';
  corrected.replaces = original.id;
  corrected.observations = [{ ...corrected.observations[1], value: 11.2, flags: ['L'], status: 'C' }];
  return planReports([corrected]).reports[0];
};
const EXPECTED_VALUES = [
  ['6690-2', '12.4', '4', '10', ['H']],
  ['718-7', '10.9', '12', '16', ['L']],
  ['777-3', '254', '150', '400', ['N']],
  ['1988-5', '<5', undefined, '5', ['N']],
] as const;

describe('HPRIM Médecin', () => {
  it('writes the 12-line header, the text, the LAB block and the end markers, in ISO 8859-1 with CR LF', () => {
    const file = writeHprimMedecin(report(), hprimMedecinOptions);
    const text = file.bytes.toString('latin1');
    expect(text.split('\r\n').slice(0, 12)).to.deep.equal([
      'IPP00042187', 'NOËL', 'Hélène', '', '', '', '12/03/1984', '2840375123456 78', 'CMD-2026-118734', '23/11/2026',
      'CSOANNECY CSNP Annecy', 'LEFEVREB  Dr LEFÈVRE Benoît',
    ]);
    expect(file.bytes.includes(Buffer.from([0x4e, 0x4f, 0xcb, 0x4c]))).to.equal(true); // NOËL, Ë = 0xCB
    expect(text).to.contain('Prescripteur : Dr COEURDEROY Anaïs\r\n'); // Œ is not in ISO 8859-1
    expect(file.transliterated).to.equal(1); // CŒURDEROY, once: the TEX copy reuses the text
    expect(file.unrepresentable).to.equal(0);
    expect(text).to.contain('\r\n****LAB****\r\n');
    expect(text).to.contain('RES|Hémoglobine|718-7|N|10.9|g/dL|12|16|L|F\r\n');
    expect(text).to.contain('RES|Protéine C réactive|1988-5|A|<5|mg/L||5|N|F\r\n');
    expect(text.endsWith('****FIN****\r\n****FINFICHIER****\r\n')).to.equal(true);
    expect(text).not.to.contain('MORPHO'); // preliminary: not sent
  });

  it('reads back every value, unit, range, flag and accented name', () => {
    const read = readHprimMedecin(writeHprimMedecin(report(), hprimMedecinOptions).bytes);
    expect(read.patient).to.deep.equal({ family: 'NOËL', given: 'Hélène', birthDate: '1984-03-12', ins: '284037512345678', localId: 'IPP00042187' });
    expect(read.recipientCode).to.equal('LEFEVREB');
    expect(read.recipientLabel).to.equal('Dr LEFÈVRE Benoît');
    expect(read.examDate).to.equal('2026-11-23');
    expect(read.results.map((r) => [r.code, r.value, r.low, r.high, r.flags])).to.deep.equal(EXPECTED_VALUES);
    expect(read.results.map((r) => r.unit)).to.deep.equal(['G/L', 'g/dL', 'G/L', 'mg/L']);
    expect(read.correction).to.equal(false);
    expect(readHprimMedecin(writeHprimMedecin(correction(), hprimMedecinOptions).bytes)).to.deep.include({ correction: true });
  });

  it('refuses a truncated file and an unclosed LAB block with the line to look at', () => {
    const text = writeHprimMedecin(report(), hprimMedecinOptions).bytes.toString('latin1');
    expect(() => readHprimMedecin(Buffer.from(text.replace('****FINFICHIER****\r\n', ''), 'latin1'))).to.throw(GpReadError, /no \*\*\*\*FINFICHIER\*\*\*\* line/);
    expect(() => readHprimMedecin(Buffer.from(text.replace('****FIN****\r\n', ''), 'latin1'))).to.throw(GpReadError, /not closed/);
    expect(() => readHprimMedecin(Buffer.from('IPP\r\nNOM\r\n'))).to.throw(GpReadError, /12 header lines, found 3/);
    expect(() => readHprimMedecin(Buffer.from(text.replace('RES|Plaquettes', 'XYZ|Plaquettes'), 'latin1'))).to.throw(GpReadError, /line 3\d: a LAB block line starts with TEX\| or RES\|/);
  });

  it('refuses codes wider than the header allows', () => {
    expect(() => writeHprimMedecin(report(), { ...hprimMedecinOptions, sender: { code: 'CSO-ANNECY-1', name: 'x' } })).to.throw(GpFormatError, /sender code is longer than 10/);
  });
});

describe('HPRIM Santé 2.2', () => {
  it('writes H/P/OBR/OBX/L with the delimiters in the header, ISO 8859-1 and CR', () => {
    const file = writeHprimSante(report(), hprimSanteOptions);
    const records = file.bytes.toString('latin1').split('\r');
    expect(records.pop()).to.equal(''); // the last record ends with CR too
    expect(records.map((r) => r.split('|')[0])).to.deep.equal(['H', 'P', 'OBR', 'OBX', 'OBX', 'OBX', 'OBX', 'L']);
    expect(records[0]).to.equal(`H|~^\\&|${file.fileName}||CSO~CSNP Annecy||ORU|||10100987654~LEFÈVRE Benoît||P|H2.2~C|20261123095000`);
    expect(records[1]).to.equal('P|1|IPP00042187||284037512345678|NOËL~Hélène~Françoise|LEFÈVRE|19840312|F|||||10100987654~LEFÈVRE Benoît');
    expect(records[2]).to.contain('|10101234567~COEURDEROY Anaïs|');
    expect(records[3]).to.equal('OBX|1|NM|6690-2~Leucocytes~LN||12.4|G/L|4 - 10|H|||F|||20261123094107');
    expect(records[6]).to.equal('OBX|4|ST|1988-5~Protéine C réactive~LN||<5|mg/L| - 5|N|||F|||20261123094107');
    expect(records[7]).to.equal('L|1');
    expect(file.bytes.every((b) => b !== 0x0a)).to.equal(true);
  });

  it('reads back every value, unit, range, flag and accented name', () => {
    const read = readHprimSante(writeHprimSante(report(), hprimSanteOptions).bytes);
    expect(read.patient).to.deep.equal({ family: 'NOËL', given: 'Hélène', birthDate: '1984-03-12', sex: 'F', ins: '284037512345678', localId: 'IPP00042187' });
    expect(read.gp).to.deep.equal({ id: '10100987654', family: 'LEFÈVRE Benoît' });
    expect(read.prescriber).to.deep.equal({ id: '10101234567', family: 'COEURDEROY Anaïs' });
    expect(read.results.map((r) => [r.code, r.value, r.low, r.high, r.flags])).to.deep.equal(EXPECTED_VALUES);
    expect(read.results.map((r) => [r.label, r.unit, r.status])[1]).to.deep.equal(['Hémoglobine', 'g/dL', 'F']);
    expect(read.version).to.equal('H2.2~C');
    const corrected = readHprimSante(writeHprimSante(correction(), hprimSanteOptions).bytes);
    expect([corrected.correction, corrected.results[0].value, corrected.results[0].status]).to.deep.equal([true, '11.2', 'C']);
  });

  it('splits a long record into A lines of at most 220 characters and reads it back whole, delimiters escaped', () => {
    const r = report();
    const long = `Hémolyse | ictère ~ lipémie ^ échantillon \\ & ${'très '.repeat(90)}— contrôle Œ\nligne 2`;
    r.items[2] = { ...r.items[2], observation: { ...r.items[2].observation, valueType: 'TX', value: long, comment: `Commentaire ${'long '.repeat(60)}` } };
    const file = writeHprimSante(r, hprimSanteOptions);
    const lines = file.bytes.toString('latin1').split('\r').filter((l) => l);
    expect(Math.max(...lines.map((l) => l.length))).to.be.at.most(220);
    expect(lines.filter((l) => l.startsWith('A|')).length).to.be.at.least(3);
    const read = readHprimSante(file.bytes);
    expect(read.results[2].value).to.equal(long.replace('—', '-').replace('Œ', 'OE'));
    expect(read.comments).to.deep.equal([`Commentaire ${'long '.repeat(60)}`]);
    expect(read.results[3].value).to.equal('<5');
  });

  it('takes the delimiters from the header of a message it did not write', () => {
    // Same content as a libHprim-style sample, with other delimiters: ! field, @ component, # repetition, $ escape, % sub-component.
    const text = 'H!@#$%!T.HPR!!LAB@LABO!!ORU!!!DR@DOCTEUR!!P!H2.2@C!20261123\r' +
      'P!1!01234!!!CŒUR@Noé!!19790101!M\r' +
      'OBR!1!!!NF@NFS@L!R\r' +
      'OBX!1!NM!GR@HEMATIES@L!!4.5!T/L!4 - 5.7!N#H!!!F\r' +
      'A!!!!20261123\r' +
      'L!1\r';
    const read = readHprimSante(Buffer.from(text, 'utf8'));
    expect(read.delimiters).to.deep.equal({ field: '!', component: '@', repetition: '#', escape: '$', subcomponent: '%' });
    expect(read.patient).to.include({ family: 'CŒUR', given: 'Noé', birthDate: '1979-01-01' });
    expect(read.results).to.deep.equal([{ code: 'GR', label: 'HEMATIES', value: '4.5', unit: 'T/L', low: '4', high: '5.7', flags: ['N', 'H'], status: 'F' }]);
    expect(read.records.find((r) => r.type === 'OBX')?.fields[14]).to.deep.equal([['20261123']]);
  });

  it('refuses what is not HPRIM Santé, with the line to look at', () => {
    expect(() => readHprimSante(Buffer.from('MSH|^~\\&|...'))).to.throw(GpReadError, /starts with an H record/);
    expect(() => readHprimSante(Buffer.from('H|~~\\&|\rL|1\r'))).to.throw(GpReadError, /5 distinct punctuation/);
    expect(() => readHprimSante(Buffer.from('H|~^\\&|\rP|1\r'))).to.throw(GpReadError, /no L record/);
    expect(() => readHprimSante(Buffer.from('H|~^\\&|\r12|x\rL|1\r'))).to.throw(GpReadError, /line 2: a record starts with its type/);
  });
});

describe('CDA R2 CR-BIO', () => {
  it('is well-formed for xmllint and passes the CR-BIO rules that can be run here', () => {
    for (const r of [report(), correction()]) {
      const cda = writeCdaCrBio(r, cdaOptions);
      expect(xmllintProblems(cda.bytes)).to.equal('');
      expect(checkCrBioRules(readCdaCrBio(cda.bytes))).to.deep.equal([]);
      expect(cda.replaced).to.equal(0);
    }
  });

  it('carries INS, GP as PCP with its MSSanté address, prescriber, LOINC and UCUM, every character exact (xmllint XPath)', () => {
    const xml = writeCdaCrBio(report(), cdaOptions).bytes;
    const q = (e: string) => xpath(xml, `string(${e})`);
    expect(q("/*/*[local-name()='code']/@code")).to.equal('11502-2');
    expect(q("//*[local-name()='patientRole']/*[local-name()='id'][@root='1.2.250.1.213.1.4.8']/@extension")).to.equal('284037512345678');
    expect(q("//*[local-name()='patient']/*[local-name()='name']/*[local-name()='family'][@qualifier='SP']")).to.equal('NOËL');
    expect(q("//*[local-name()='patient']/*[local-name()='name']/*[local-name()='family'][@qualifier='BR']")).to.equal('LEFÈVRE');
    expect(q("//*[local-name()='participant'][@typeCode='INF']/*[local-name()='functionCode']/@code")).to.equal('PCP');
    expect(q("//*[local-name()='participant'][@typeCode='INF']//*[local-name()='telecom']/@value")).to.equal('mailto:benoit.lefevre@medecin.mssante.fr');
    expect(q("//*[local-name()='participant'][@typeCode='REF']//*[local-name()='family']")).to.equal('CŒURDEROY');
    expect(q("//*[local-name()='observation'][*[local-name()='code']/@code='718-7']/*[local-name()='value']/@unit")).to.equal('g/dL');
    expect(q("count(//*[local-name()='observation'])")).to.equal('4');
  });

  it('reads back every value, unit, range, flag and name', () => {
    const read = readCdaCrBio(writeCdaCrBio(report(), cdaOptions).bytes);
    expect(read.patient).to.deep.equal({ family: 'NOËL', given: 'Hélène Françoise', birthDate: '1984-03-12', sex: 'F', ins: '284037512345678' });
    expect(read.gp).to.deep.equal({ id: '10100987654', family: 'LEFÈVRE', given: 'Benoît', mailbox: 'benoit.lefevre@medecin.mssante.fr' });
    expect(read.prescriber).to.deep.equal({ id: '10101234567', family: 'CŒURDEROY', given: 'Anaïs' });
    expect(read.results.map((r) => [r.code, r.value, r.low, r.high, r.flags])).to.deep.equal(EXPECTED_VALUES);
    expect(read.results.map((r) => r.unit)).to.deep.equal(['10*9/L', 'g/dL', '10*9/L', 'mg/L']);
    expect(read.results[1].narrative).to.deep.equal(['Hémoglobine', '10.9', 'g/dL', '12 - 16', 'L']);
    expect(read.results.map((r) => r.localCode)).to.deep.equal(['WBC', 'HGB', 'PLT', 'CRP']);
  });

  it('sends a correction as the next version of the same set, replacing the document before', () => {
    const first = readCdaCrBio(writeCdaCrBio(planReports([exampleResult()]).reports[0], cdaOptions).bytes);
    const xml = writeCdaCrBio(correction(), cdaOptions).bytes;
    const read = readCdaCrBio(xml);
    expect([read.correction, read.version, read.setId]).to.deep.equal([true, '2', first.setId]);
    // The original report carried exactly the corrected result: its id is the parent document.
    const firstId = xpath(writeCdaCrBio(planReports([exampleResult()]).reports[0], cdaOptions).bytes, "string(/*/*[local-name()='id']/@root)");
    expect(xpath(xml, "string(//*[local-name()='relatedDocument'][@typeCode='RPLC']//*[local-name()='id']/@root)")).to.equal(firstId);
    expect(read.results.map((r) => [r.value, r.flags])).to.deep.equal([['11.2', ['L']]]);
  });

  it('names broken rules, and refuses XML that is not well-formed or not a CDA', () => {
    const xml = writeCdaCrBio(report(), cdaOptions).bytes.toString('utf8');
    const broken = readCdaCrBio(Buffer.from(xml.replace("Compte rendu d'examens biologiques", 'Résultats').replace('code="PCP"', 'code="ATTPHYS"').replace('value="#res-2"', 'value="#nowhere"')));
    expect(checkCrBioRules(broken)).to.deep.equal([
      'title must be "Compte rendu d\'examens biologiques"',
      'the GP participant (INF, functionCode PCP) is missing',
      'observation 2: text/reference does not point at a row of the section\'s narrative',
    ]);
    expect(() => readCdaCrBio(Buffer.from(xml.replace('</ClinicalDocument>', '')))).to.throw(GpReadError, /not well-formed/);
    expect(() => readCdaCrBio(Buffer.from('<ClinicalDocument/>'))).to.throw(GpReadError, /not an HL7 CDA/);
    expect(() => writeCdaCrBio(report(), { ...cdaOptions, responsible: { name: { family: 'X' } } })).to.throw(GpFormatError, /RPPS/);
  });
});

describe('readable PDF (pdfkit, read back with pdftotext)', () => {
  it('shows the patient, the GP, the prescriber and one row per result with unit, range and flag', async () => {
    const pdf = await writePdf(report(), { now: NOW });
    expect(pdf.bytes.subarray(0, 5).toString()).to.equal('%PDF-');
    const text = pdfText(pdf.bytes);
    expect(text).to.contain('Patient : NOËL Hélène Françoise');
    expect(text).to.contain('Nom de naissance : LEFÈVRE');
    expect(text).to.contain('Médecin traitant : Dr LEFÈVRE Benoît, RPPS 10100987654, benoit.lefevre@medecin.mssante.fr');
    expect(text).to.contain('Prescripteur : Dr CŒURDEROY Anaïs'); // Œ is in windows-1252: the standard font draws it
    expect(text).to.contain('Prélèvement : 23/11/2026 09:32');
    const rows = text.split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(rows).to.deep.include.members([
      ['Leucocytes', '12.4', 'G/L', '4 - 10', 'H'],
      ['Hémoglobine', '10.9', 'g/dL', '12 - 16', 'L'],
      ['Plaquettes', '254', 'G/L', '150 - 400', 'N'],
    ]);
    expect(text).to.match(/Protéine C réactive\s+<5\s+mg\/L\s+-\s*5\s+N/);
    expect(pdf.transliterated).to.equal(0);
  });

  it('transliterates what the standard font cannot draw, and keeps it all with a Unicode font', async () => {
    const r = report();
    r.items[0] = { ...r.items[0], observation: { ...r.items[0].observation, code: { code: '6690-2', system: 'LN', display: 'Leucocytes ≥ 10⁹' } } };
    const standard = await writePdf(r, { now: NOW });
    expect(pdfText(standard.bytes)).to.contain('Leucocytes >= 109');
    expect(standard.transliterated).to.equal(2);
    const dejavu = await writePdf(r, { now: NOW, font: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' });
    expect(pdfText(dejavu.bytes)).to.contain('Leucocytes ≥ 10⁹');
    expect(dejavu.transliterated).to.equal(0);
  });
});
