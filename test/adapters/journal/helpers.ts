/** Shared by the journal tests: a store in a fresh directory, and small canonical results. */
import { Store, type StoreOptions } from '../../../adapters/journal';
import type { Result } from '../../../adapters/model/result';
import { tempDir } from '../../support/net';

export interface OpenedStore {
  store: Store;
  dir: string;
  /** Closes every handle given out by reopen() and this one, then removes the directory. */
  cleanup(): void;
  reopen(options?: Partial<StoreOptions>): Store;
}

export function openTempStore(options: Partial<StoreOptions> = {}): OpenedStore {
  const { dir, remove } = tempDir('passerelle-journal-');
  const handles: Store[] = [];
  const reopen = (more: Partial<StoreOptions> = {}) => {
    const store = Store.open({ dir, ...options, ...more });
    handles.push(store);
    return store;
  };
  const store = reopen();
  return {
    store,
    dir,
    reopen,
    cleanup: () => {
      for (const handle of handles) handle.close();
      remove();
    },
  };
}

export function sampleResult(n: number, overrides: Partial<Result> = {}): Result {
  return {
    schema: 'passerelle.result/1',
    id: `result-${String(n).padStart(4, '0')}`,
    kind: 'biology',
    status: 'final',
    source: { site: 'test-site', deviceClass: 'haematology', deviceId: n % 2 === 0 ? 'analyser-even' : 'analyser-odd' },
    patient: {
      identifiers: [{ value: `INS${1000 + n}`, type: 'INS-NIR' }, { value: `IPP${n}`, type: 'PI' }],
      name: { family: n === 7 ? 'NOËL' : `FAMILY${n}`, given: [n === 7 ? 'Hélène' : `Given${n}`] },
      matched: n % 3 !== 0,
    },
    specimen: { id: `S${n}` },
    observations: [
      { deviceCode: { code: 'WBC' }, valueType: 'NM', value: 5 + n, status: 'F' },
      { deviceCode: { code: 'HGB' }, valueType: 'NM', value: 12, status: 'F' },
    ],
    times: { received: new Date(Date.UTC(2026, 10, 23, 9, 0, n)).toISOString() },
    ...overrides,
  };
}

/** An HL7-looking payload that carries its control id in MSH-10, as the ORU builder does. */
export function hl7Payload(controlId: string, body = 'OBX|1|NM|WBC||5.2'): Buffer {
  return Buffer.from(`MSH|^~\\&|PASSERELLE|SITE|EHR|HOSP|20261123090000||ORU^R01|${controlId}|P|2.5\r${body}\r`);
}
