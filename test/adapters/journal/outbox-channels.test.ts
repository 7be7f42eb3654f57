import { expect } from 'chai';
import { openTempStore } from './helpers';

describe('journal store: channels with entries still to publish', () => {
  it('names each channel under a prefix that has unpublished entries, and forgets it once published', () => {
    const { store, cleanup } = openTempStore();
    try {
      const entry = (channel: string, publishTopic?: string) =>
        store.journalInbound({ channel, contentType: 'application/json', raw: Buffer.from('{}'), status: 'accepted', publishTopic });
      const first = entry('poct1a:HBA1C-1', 'passerelle/v1/s/biology/HBA1C-1/result');
      entry('poct1a:HBA1C-1', 'passerelle/v1/s/biology/HBA1C-1/result');
      entry('poct1a:INR-2', 'passerelle/v1/s/biology/INR-2/result');
      entry('poct1a:CRP-3'); // nothing to publish
      entry('astm:cobas-1', 'passerelle/v1/s/biology/cobas-1/result');
      entry('poct1_other', 'passerelle/v1/s/biology/x/result'); // '_' is no wildcard here
      expect(store.channelsWithUnpublished('poct1a:').sort()).to.deep.equal(['poct1a:HBA1C-1', 'poct1a:INR-2']);
      for (const e of store.unpublished(10, 'poct1a:INR-2')) store.markPublished(e.id);
      store.markPublished(first);
      expect(store.channelsWithUnpublished('poct1a:')).to.deep.equal(['poct1a:HBA1C-1']);
    } finally {
      cleanup();
    }
  });
});
