/**
 * PhotoIntake with a real journal: a pair whose two halves were journaled before a crash is found
 * again and finished at the next start; a closed pair is not; halves from a folder whose companion
 * names other bytes are both refused, raw bytes kept.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PHOTO_CONTENT_TYPE, PHOTO_PAIRED_CONTENT_TYPE, PhotoIntake, PhotoRefusedError, type PhotoCompanion } from '../../../adapters/dicom';
import { Store } from '../../../adapters/journal';
import { validateImagingEvent } from '../../../adapters/model';
import { makeJpeg } from '../../support/photos';
import { tempDir } from '../../support/net';

const ROOT = join(__dirname, '..', '..', '..', '..');
const TOPIC = 'passerelle/v1/cso-annecy/cart/chariot-tlc-2/photo';

describe('photo intake (pairing, journal, restart)', () => {
  const jpeg = makeJpeg();
  const sha256 = createHash('sha256').update(jpeg).digest('hex');
  const companion = (): PhotoCompanion => ({ ...JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'photo.example.json'), 'utf8')), sha256 });
  let work: { dir: string; remove: () => void };
  let store: Store;
  const intake = () => new PhotoIntake({ store, channel: 'photo:test', site: 'cso-annecy', timeZone: 'Europe/Paris', dermoscopy: 'XC', dir: join(work.dir, 'dicom'), aeTitle: 'PASSERELLE' });
  beforeEach(() => {
    work = tempDir('passerelle-intake-');
    store = Store.open({ dir: join(work.dir, 'journal') });
  });
  afterEach(() => {
    store.close();
    work.remove();
  });

  it('finishes at start a pair whose halves were journaled before a crash, once', async () => {
    store.journalInbound({ channel: 'photo:test', peer: `mqtt:${TOPIC}`, contentType: PHOTO_CONTENT_TYPE, raw: Buffer.from(JSON.stringify(companion())), status: 'accepted' });
    store.journalInbound({ channel: 'photo:test', peer: `mqtt:${TOPIC}`, contentType: 'image/jpeg', raw: jpeg, status: 'accepted' });
    const first = intake();
    expect(first.restore()).to.deep.equal([sha256]);
    const outcome = await first.finish(sha256);
    expect('stored' in outcome).to.equal(true);
    const { stored } = outcome as { stored: { event: unknown; topic: string } };
    expect(stored.topic).to.equal('passerelle/v1/cso-annecy/imaging/chariot-tlc-2/stored');
    expect(validateImagingEvent(stored.event).patient?.name).to.deep.equal({ family: 'NOËL', given: ['Hélène', 'Françoise'] });
    expect(store.listInbound({ channel: 'photo:test', limit: 10 }).filter((e) => e.contentType === PHOTO_PAIRED_CONTENT_TYPE)).to.have.length(1);
    const second = intake();
    expect(second.restore()).to.deep.equal([]);
    expect(second.waiting).to.equal(0);
  });

  it('refuses a folder pair whose companion names other bytes: both halves journaled as rejected', async () => {
    const other = { ...companion(), sha256: 'ab'.repeat(32) };
    let thrown: unknown;
    try {
      await intake().together(Buffer.from(JSON.stringify(other)), jpeg, 'file:/drop/IMG_1.jpg');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(PhotoRefusedError);
    expect((thrown as Error).message).to.match(/\/sha256 is abab.* but the bytes' SHA-256 is [0-9a-f]{64}/);
    const rejected = store.listInbound({ channel: 'photo:test', status: 'rejected', limit: 10 });
    expect(rejected.map((e) => e.contentType).sort()).to.deep.equal([PHOTO_CONTENT_TYPE, 'image/jpeg']);
    expect(rejected.find((e) => e.contentType === 'image/jpeg')!.raw.equals(jpeg)).to.equal(true);
  });

  it('reports a half that waits too long for the other, once, and still pairs it when the other comes', async () => {
    const photos = intake();
    const at = new Date('2026-11-23T09:30:00Z');
    expect(await photos.fromMqtt(TOPIC, Buffer.from(JSON.stringify(companion())), at)).to.deep.equal({ waiting: 'bytes' });
    expect(photos.orphans(10 * 60_000, at.getTime() + 9 * 60_000)).to.deep.equal([]);
    const orphans = photos.orphans(10 * 60_000, at.getTime() + 11 * 60_000);
    expect(orphans).to.have.length(1);
    expect(orphans[0]).to.include({ waiting: 'bytes', peer: `mqtt:${TOPIC}`, sinceMs: 11 * 60_000 });
    expect(photos.orphans(10 * 60_000, at.getTime() + 60 * 60_000), 'reported once').to.deep.equal([]);
    const outcome = await photos.fromMqtt(TOPIC, jpeg, new Date(at.getTime() + 12 * 60_000));
    expect('stored' in outcome).to.equal(true);
    expect(photos.waiting).to.equal(0);
  });
});
