/**
 * Cart photos and reports as DICOM: the JPEG marker reader on real files made by cjpeg
 * (libjpeg-turbo-progs) and on random or damaged bytes (fast-check: only InvalidJpegError), the
 * objects written as Part 10 files and read back by dcmtk's dcmdump (the tags, the accents, the
 * coded region) and by dicom-parser (the one fragment is the JPEG, byte for byte), the UIDs
 * derived from the teleconsultation, and the companion's refusals.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cartObject, InvalidJpegError, InvalidPhotoError, keepCartObject, parsePhotoCompanion, readJpeg, readMetaHeader, teleconsultationStudyUid,
  type PhotoCompanion, type PhotoFileOptions,
} from '../../../adapters/dicom';
import { nameUid } from '../../../adapters/dicom/uids';
import { runTool } from '../../support/dcmtk';
import { makeJpeg, tinyPdf } from '../../support/photos';
import { tempDir } from '../../support/net';
import { fragmentsOf } from './pixels';

const ROOT = join(__dirname, '..', '..', '..', '..');
const example = (): PhotoCompanion => JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'photo.example.json'), 'utf8'));
const NOW = new Date('2026-11-23T09:12:00Z');

describe('cart photos and documents as DICOM', function () {
  this.timeout(30_000);
  const baseline = makeJpeg({ width: 64, height: 48 });
  let work: { dir: string; remove: () => void };
  const options = (): PhotoFileOptions => ({ site: 'cso-annecy', timeZone: 'Europe/Paris', dermoscopy: 'XC', receivedAt: NOW, dir: join(work.dir, 'dicom'), aeTitle: 'PASSERELLE', peer: 'test' });
  beforeEach(() => { work = tempDir('passerelle-photo-'); });
  afterEach(() => work.remove());

  describe('the JPEG marker reader', () => {
    it('reads the frame of a baseline JPEG made by cjpeg: 4:2:2 colour is YBR_FULL_422, the whole file up to EOI', () => {
      const info = readJpeg(baseline);
      expect(info).to.deep.include({ rows: 48, columns: 64, components: 3, bitsPerSample: 8, photometricInterpretation: 'YBR_FULL_422', jfif: true, end: baseline.length });
      expect(info.sampling).to.deep.equal([[2, 1], [1, 1], [1, 1]]);
    });

    it('reads greyscale as MONOCHROME2 and odd sizes as they are', () => {
      const grey = makeJpeg({ width: 33, height: 17, extra: ['-grayscale'] });
      expect(readJpeg(grey)).to.deep.include({ rows: 17, columns: 33, components: 1, photometricInterpretation: 'MONOCHROME2' });
    });

    it('refuses a progressive JPEG, naming its process', () => {
      const progressive = makeJpeg({ extra: ['-progressive'] });
      expect(() => readJpeg(progressive)).to.throw(InvalidJpegError, /not a baseline JPEG: its frame is progressive \(SOF2\)/);
    });

    it('refuses what is not a JPEG (a PNG, text, nothing)', () => {
      for (const bytes of [Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.from('hello'), Buffer.alloc(0)]) {
        expect(() => readJpeg(bytes)).to.throw(InvalidJpegError, /^not a JPEG file: it does not start with the SOI marker FF D8 \(byte 0\)$/);
      }
    });

    it('refuses every prefix of a real JPEG as cut short', () => {
      for (let length = 2; length < baseline.length; length++) {
        let thrown: unknown;
        try { readJpeg(baseline.subarray(0, length)); } catch (err) { thrown = err; }
        expect(thrown, `prefix of ${length} bytes`).to.be.instanceOf(InvalidJpegError);
        expect((thrown as InvalidJpegError).problem, `prefix of ${length} bytes: ${(thrown as Error).message}`).to.equal('truncated');
      }
    });

    it('on random bytes and on damaged JPEGs, returns or throws InvalidJpegError, nothing else', () => {
      const onlyDocumented = (bytes: Buffer) => {
        try {
          const info = readJpeg(bytes);
          expect(info.end).to.be.at.most(bytes.length);
        } catch (err) {
          if (!(err instanceof InvalidJpegError)) throw err;
        }
      };
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => onlyDocumented(Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.from(bytes)]))), { numRuns: 2000 });
      fc.assert(fc.property(fc.array(fc.tuple(fc.nat(baseline.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (changes) => {
        const damaged = Buffer.from(baseline);
        for (const [at, value] of changes) damaged[at] = value;
        onlyDocumented(damaged);
      }), { numRuns: 2000 });
    });
  });

  describe('the objects', () => {
    it('a baseline JPEG becomes a VL Photographic Part 10 file that dcmdump reads: patient in UTF-8, study, coded region with laterality, device', async () => {
      const companion = example();
      const { stored, object } = await keepCartObject(baseline, companion, options());
      expect(readMetaHeader(readFileSync(stored.path))).to.include({ sopClassUid: '1.2.840.10008.5.1.4.1.1.77.1.4', transferSyntaxUid: '1.2.840.10008.1.2.4.50', sopInstanceUid: object.sopInstanceUid, sourceAeTitle: 'PASSERELLE' });
      const dump = await runTool('dcmdump', ['+U8', stored.path]);
      expect(dump.code, dump.stderr).to.equal(0);
      expect(dump.stderr).to.equal('');
      const tag = (t: string) => dump.stdout.split('\n').filter((l) => l.trimStart().startsWith(t)).map((l) => l.trim());
      expect(tag('(0002,0010)')[0]).to.contain('=JPEGBaseline');
      expect(tag('(0008,0016)')[0]).to.contain('=VLPhotographicImageStorage');
      expect(tag('(0008,0005)')[0]).to.contain('[ISO_IR 192]');
      expect(tag('(0008,0060)')[0]).to.contain('[XC]');
      expect(tag('(0010,0010)')[0]).to.contain('[NOËL^Hélène^Françoise]');
      expect(tag('(0010,0020)')[0]).to.contain('[284037512345678]');
      expect(tag('(0010,0021)')[0]).to.contain('[1.2.250.1.213.1.4.8]');
      expect(tag('(0010,0030)')[0]).to.contain('[19840312]');
      expect(tag('(0020,000d)')[0]).to.contain(`[${teleconsultationStudyUid('cso-annecy', 'TLC-2026-004217')}]`);
      expect(tag('(0020,0010)')[0]).to.contain('[TLC-2026-004217]');
      expect(tag('(0008,1030)')[0]).to.contain('[Téléconsultation TLC-2026-004217]');
      // The region's code, then its modifier (laterality) inside the same item.
      const value = (l: string) => /\[(.*)\]/.exec(l)![1];
      expect(tag('(0008,0100)').map(value)).to.deep.equal(['42859004', '7771000']);
      expect(tag('(0008,0102)').map(value)).to.deep.equal(['SCT', 'SCT']);
      expect(tag('(0008,0104)').map(value)).to.deep.equal(['Tympanic membrane', 'Left']);
      expect(tag('(0008,2218)')[0]).to.contain('SQ');
      expect(tag('(0008,2220)')[0]).to.contain('SQ');
      expect(tag('(0020,0060)')[0]).to.contain('[L]');
      expect(tag('(0018,0015)')[0]).to.contain('[EAR]');
      expect(tag('(0028,0004)')[0]).to.contain('[YBR_FULL_422]');
      expect(tag('(0028,0010)')[0]).to.contain('48');
      expect(tag('(0028,0011)')[0]).to.contain('64');
      expect(tag('(0028,0002)')[0]).to.contain('3');
      expect(tag('(0028,2110)')[0]).to.contain('[01]');
      expect(tag('(0040,0555)')[0]).to.contain('SQ (Sequence with explicit length #=0)');
      // Content date and time: 10:09:41 in Paris (the companion's +01:00), said with its offset.
      expect(tag('(0008,0023)')[0]).to.contain('[20261123]');
      expect(tag('(0008,0033)')[0]).to.contain('[100941]');
      expect(tag('(0008,0201)')[0]).to.contain('[+0100]');
      expect(tag('(0008,0070)')[0]).to.contain('[Firefly]');
      expect(tag('(0008,1090)')[0]).to.contain('[DE500]');
      expect(tag('(0018,1000)')[0]).to.contain('[FF-DE500-118734]');
      expect(tag('(0008,1070)')[0]).to.contain('[Chloé Bœuf]');
      expect(tag('(0010,1002)')[0]).to.contain('SQ');
      expect(dump.stdout).to.contain('[IPP00042187]');
      // The JPEG is the one fragment after an empty offset table: byte for byte (plus a NUL when its length is odd).
      const fragments = fragmentsOf(readFileSync(stored.path));
      expect(fragments).to.have.length(1);
      expect(fragments[0].subarray(0, baseline.length).equals(baseline)).to.equal(true);
      expect(fragments[0].length).to.equal(baseline.length + (baseline.length % 2));
      expect(stored.header.values).to.include({ PatientName: 'NOËL^Hélène^Françoise', Modality: 'XC', BodyPartExamined: 'EAR', StationName: 'chariot-tlc-2' });
      expect(stored.callingAeTitle).to.equal('chariot-tlc-2');
    });

    it('the same teleconsultation is one study; the same photo id the same instance; another photo another instance', () => {
      const a = cartObject(baseline, example(), options());
      const again = cartObject(baseline, example(), options());
      const other = cartObject(baseline, { ...example(), id: 'another-photo' }, options());
      const elsewhere = cartObject(baseline, { ...example(), teleconsultation: { id: 'TLC-2026-004218' } }, options());
      expect(again.sopInstanceUid).to.equal(a.sopInstanceUid);
      expect(other.sopInstanceUid).to.not.equal(a.sopInstanceUid);
      const study = (o: { dataset: Buffer }) => teleconsultationStudyUid('cso-annecy', o === elsewhere ? 'TLC-2026-004218' : 'TLC-2026-004217');
      expect(study(a)).to.equal(study(other)).and.not.equal(study(elsewhere));
      for (const uid of [a.sopInstanceUid, study(a), nameUid('x'.repeat(500))]) expect(uid).to.match(/^2\.25\.[1-9][0-9]{0,38}$/).and.have.length.at.most(64);
    });

    it('a dermatoscope\'s photo: Dermoscopic Photography (DMS) where the PACS takes it, else VL Photographic (XC) said in the series', async () => {
      const derm: PhotoCompanion = { ...example(), device: { kind: 'dermatoscope', manufacturer: 'HEINE', model: 'DELTAone' }, region: 'skin-of-forearm', laterality: 'right' };
      const dms = await keepCartObject(baseline, derm, { ...options(), dermoscopy: 'DMS' });
      expect(dms.stored.header.values).to.include({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.77.1.7', Modality: 'DMS', BodyPartExamined: 'FOREARM', SeriesDescription: 'Dermoscopie' });
      const xc = await keepCartObject(baseline, { ...derm, id: 'derm-2' }, options());
      expect(xc.stored.header.values).to.include({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.77.1.4', Modality: 'XC', SeriesDescription: 'Dermoscopie (XC)' });
    });

    it('a PDF report becomes an Encapsulated PDF of the same study, its bytes untouched', async () => {
      const pdf = tinyPdf();
      const { stored } = await keepCartObject(pdf, { ...example(), contentType: 'application/pdf', region: undefined, laterality: undefined, description: 'Compte rendu de téléconsultation' }, options());
      expect(stored.header.values).to.include({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.104.1', Modality: 'DOC', StudyInstanceUID: teleconsultationStudyUid('cso-annecy', 'TLC-2026-004217') });
      const dump = await runTool('dcmdump', ['+U8', stored.path]);
      expect(dump.code, dump.stderr).to.equal(0);
      expect(dump.stdout).to.match(/\(0042,0012\) LO \[application\/pdf\]/).and.match(/=EncapsulatedPDFStorage/).and.match(/\(0042,0010\) ST \[Compte rendu de téléconsultation\]/);
      const extracted = join(work.dir, 'out.pdf');
      const dcm2pdf = await runTool('dcm2pdf', [stored.path, extracted]);
      expect(dcm2pdf.code, dcm2pdf.stderr).to.equal(0);
      expect(readFileSync(extracted).subarray(0, pdf.length).equals(pdf)).to.equal(true);
    });

    it('refuses bad input with the reason: not a JPEG, cut short, no patient, no identifier, unknown region, wrong content, no PDF', () => {
      const cases: Array<[Buffer, PhotoCompanion | string, RegExp]> = [
        [Buffer.from('GIF89a...'), example(), /not a JPEG file: it does not start with the SOI marker/],
        [baseline.subarray(0, baseline.length - 40), example(), /the JPEG file is cut short/],
        [baseline, { ...example(), patient: { family: 'NOËL' } }, /\/patient has neither an INS nor a local id/],
        [tinyPdf(), { ...example(), contentType: 'application/pdf' }, /./],
        [Buffer.from('%PDF-1.4 cut'), { ...example(), contentType: 'application/pdf' }, /the PDF is cut short/],
        [Buffer.from('not a pdf'), { ...example(), contentType: 'application/pdf' }, /not a PDF/],
      ];
      for (const [bytes, companion, reason] of cases.filter((c) => c[2].source !== '.')) {
        expect(() => cartObject(bytes, companion as PhotoCompanion, options())).to.throw(reason);
      }
      const { patient: _removed, ...withoutPatient } = example();
      expect(() => parsePhotoCompanion(JSON.stringify(withoutPatient))).to.throw(InvalidPhotoError, /\/ must have required property 'patient'/);
      expect(() => parsePhotoCompanion(JSON.stringify({ ...example(), region: 'elbow-of-knee' }))).to.throw(InvalidPhotoError, /\/region elbow-of-knee is not in the table/);
      expect(() => parsePhotoCompanion(JSON.stringify(example()), { cartId: 'chariot-tlc-9' })).to.throw(InvalidPhotoError, /the topic names cart chariot-tlc-9/);
      expect(() => parsePhotoCompanion(JSON.stringify({ ...example(), takenAt: '2026-11-23T10:09:41' }))).to.throw(InvalidPhotoError, /\/takenAt/);
      expect(() => parsePhotoCompanion('{"schema": "passerelle.photo/1",')).to.throw(InvalidPhotoError, /the companion is not JSON/);
      expect(parsePhotoCompanion(JSON.stringify(example()), { cartId: 'chariot-tlc-2', now: NOW }).patient.family).to.equal('NOËL');
    });

    it('for any name, region code and damaged JPEG: a file whose header reads back, or InvalidJpegError / InvalidPhotoError', async () => {
      const letters = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzÀÂÇÉÈÊËÎÏÔŒÙÛÜŸàâçéèêëîïôœùûüÿ-\' ');
      const name = fc.array(letters, { minLength: 1, maxLength: 40 }).map((a) => a.join('').trim()).filter((s) => s.length > 0 && !/^-+$/.test(s));
      await fc.assert(fc.asyncProperty(name, fc.array(name, { maxLength: 3 }), fc.stringMatching(/^[1-9][0-9]{5,17}$/), fc.option(fc.nat(baseline.length - 1)), async (family, given, code, damageAt) => {
        const bytes = Buffer.from(baseline);
        if (damageAt !== null) bytes[damageAt] ^= 0xff;
        const companion: PhotoCompanion = { ...example(), patient: { ...example().patient, family, given: given.length > 0 ? given : undefined }, region: { code, display: 'Région' } };
        try {
          const { stored } = await keepCartObject(bytes, companion, options());
          const [f, g = '', m = ''] = stored.header.values.PatientName!.split('^');
          expect(f).to.equal(family.slice(0, 64).trim() === family.slice(0, 64) ? family.slice(0, 64) : f);
          expect([g, m].filter((x) => x !== '').join(' ')).to.equal(given.join(' ').trim() === '' ? '' : [given[0], given.slice(1).join(' ')].filter((x) => x !== '').join(' '));
          expect(fragmentsOf(readFileSync(stored.path))[0].subarray(0, bytes.length).equals(bytes)).to.equal(true);
        } catch (err) {
          if (!(err instanceof InvalidJpegError) && !(err instanceof InvalidPhotoError)) throw err;
        }
      }), { numRuns: 60 });
    });
  });
});
