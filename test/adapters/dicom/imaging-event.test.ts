/**
 * The imaging event: the documented example against the schema and the types, and events built
 * from the headers of the real fixtures and of written objects (accents, times, charsets).
 */
import { expect } from 'chai';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildImagingEvent, decoderFor, readObjectHeader, type ObjectHeader } from '../../../adapters/dicom';
import { InvalidImagingEventError, parseImagingEvent, validateImagingEvent, type ImagingEvent } from '../../../adapters/model';
import { tempDir } from '../../support/net';
import { sharedFixture } from '../../support/shared';
import { writeObject } from './objects';

const examplePath = join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'imaging-event.example.json');
const SC = '1.2.840.10008.5.1.4.1.1.7';

function eventOf(header: ObjectHeader, path = '/data/x.dcm'): ImagingEvent {
  return validateImagingEvent(buildImagingEvent(header, {
    site: 'cso-annecy', deviceId: 'echo-1', callingAeTitle: 'ECHO1', calledAeTitle: 'PASSERELLE', timeZone: 'Europe/Paris',
    receivedAt: new Date('2026-11-23T08:41:09.412Z'), file: { path, size: 10, sha256: 'a'.repeat(64), transferSyntaxUid: header.transferSyntaxUid }, journalId: 'J1',
  }));
}

async function headerOfFixture(name: string): Promise<ObjectHeader> {
  const path = sharedFixture('dicom', name);
  return readObjectHeader(path, statSync(path).size);
}

describe('imaging event v1', () => {
  it('accepts the documented example, accents and all', () => {
    const event = parseImagingEvent(readFileSync(examplePath));
    expect(event.patient?.name).to.deep.equal({ family: 'NOËL', given: ['Hélène', 'Françoise'] });
    expect(event.instance.frames).to.equal(8);
  });

  it('names every problem of an invalid event, and refuses bytes that are not JSON', () => {
    const bad = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;
    delete bad.study;
    (bad.file as Record<string, unknown>).sha256 = 'not-a-hash';
    try {
      validateImagingEvent(bad);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(InvalidImagingEventError);
      const problems = (err as InvalidImagingEventError).problems.join('\n');
      expect(problems).to.contain("must have required property 'study'");
      expect(problems).to.contain('/file/sha256 must match pattern');
    }
    expect(() => parseImagingEvent('{"schema":')).to.throw(InvalidImagingEventError, /not JSON/);
  });

  it('from the real German-name fixture (ISO_IR 100): Äneas Rüdiger, decoded', async () => {
    const event = eventOf(await headerOfFixture('ot_iso-ir-100_german-patient-name.dcm'));
    expect(event.patient?.name).to.deep.equal({ family: 'Äneas', given: ['Rüdiger'] });
    expect(event.characterSet).to.equal('ISO_IR 100');
    expect(event.instance.sopClassName).to.equal('Secondary Capture Image Storage');
  });

  it('from the real ultrasound loop, whose charset is the non-standard "ISO-IR 100": US, 8 frames, JPEG baseline', async () => {
    const header = await headerOfFixture('us_acuson_8frame_jpeg-baseline.dcm');
    expect(header.characterSetKnown).to.equal(true);
    const event = eventOf(header);
    expect(event).to.nested.include({ modality: 'US', 'instance.frames': 8, 'file.transferSyntaxUid': '1.2.840.10008.1.2.4.50' });
    expect(event.instance.sopClassUid).to.equal('1.2.840.10008.5.1.4.1.1.3.1');
  });

  it('from the real CR fixture: CR with its study and series UIDs', async () => {
    const event = eventOf(await headerOfFixture('cr_agfa_cspine_16x16.dcm'));
    expect(event.modality).to.equal('CR');
    expect(event.study.instanceUid).to.match(/^[0-9.]+$/);
    expect(event.series.instanceUid).to.match(/^[0-9.]+$/);
  });

  it('from a UTF-8 object: names, accession number, body part, study time in Paris with its offset', async () => {
    const work = tempDir();
    try {
      const object = await writeObject(join(work.dir, 'o.dcm'), { sopClassUid: SC, characterSet: 'ISO_IR 192', patientName: 'LEFÈVRE^Noël^Zoé', patientId: 'IPP42', accessionNumber: 'ACC77', bodyPart: 'CHEST', studyDescription: 'Radiographie pulmonaire', pixels: { rows: 4, columns: 4 } });
      const event = eventOf(await readObjectHeader(object.path, object.size));
      expect(event.patient).to.deep.equal({ identifiers: [{ value: 'IPP42' }], name: { family: 'LEFÈVRE', given: ['Noël', 'Zoé'] }, birthDate: '1961-03-14', sex: 'F' });
      expect(event).to.include({ accessionNumber: 'ACC77', bodyPart: 'CHEST' });
      expect(event.study).to.deep.equal({ instanceUid: object.studyInstanceUid, description: 'Radiographie pulmonaire' });
      expect(event.times).to.deep.equal({ study: '2026-11-23T09:32:10+01:00', received: '2026-11-23T09:41:09.412+01:00' });
      expect(event.raw).to.deep.equal({ journalId: 'J1' });
    } finally {
      work.remove();
    }
  });

  it('decodes the character sets a French site meets, and says when one is unknown', () => {
    const latin1 = Buffer.from('Hélène', 'latin1');
    expect(decoderFor('ISO_IR 100').decode(latin1)).to.equal('Hélène');
    expect(decoderFor('ISO-IR 100').decode(latin1)).to.equal('Hélène');
    expect(decoderFor('ISO 2022 IR 100').decode(latin1)).to.equal('Hélène');
    expect(decoderFor('ISO_IR 192').decode(Buffer.from('Françoise', 'utf8'))).to.equal('Françoise');
    expect(decoderFor('ISO_IR 203').decode(Buffer.from([0xa4]))).to.equal('€');
    expect(decoderFor(undefined).known).to.equal(true);
    expect(decoderFor('KLINGON').known).to.equal(false);
  });
});
