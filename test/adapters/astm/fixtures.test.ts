/**
 * Every capture in ../shared/fixtures/astm (read in place, never copied: their licences say so).
 * Framed captures go through the receiver state machine byte by byte and in random chunk sizes;
 * record-only ones through the record parser. Then each maps to canonical results whose
 * observations match the R records one for one: code, value, unit, specimen id.
 *
 * The framed captures hold the instrument's side only, without ENQ and EOT: the test adds them.
 */
import { expect } from 'chai';
import {
  builtinProfiles, getProfile, mapMessage, type MappedMessage, parseMessage, unescapeText, type AstmMessage, type LinkSettings,
} from '../../../adapters/astm';
import { validateResult } from '../../../adapters/model';
import { BYTE, expectedText, fixture, FRAMED_FIXTURES, harness, RECORD_FIXTURES } from './helpers';

interface Expectation {
  profile: string;
  /** [specimen id, observations] per patient result, in order. */
  results: Array<[string | undefined, number]>;
  controls?: Array<[string | undefined, number]>;
  skipped?: number;
  /** Observations with a LOINC code. */
  mapped: number;
  /** Patient results whose patient the device identified. */
  matched: number;
  link?: Partial<LinkSettings>;
  check?: (mapped: MappedMessage, message: AstmMessage) => void;
}

const EXPECTED: Record<string, Expectation> = {
  'abbott-afinion2.txt': {
    profile: 'abbott-afinion2', results: [['5', 1]], mapped: 1, matched: 1,
    check: ({ results: [r] }) => {
      expect(r.observations[0]).to.deep.include({ value: 5.9, valueType: 'NM', code: { code: '4548-4', system: 'LN', display: 'Hémoglobine glyquée (HbA1c)' } });
      expect(r.observations[0].observedAt).to.equal('2024-12-06T14:06:15+01:00');
      expect(r.patient).to.deep.include({ identifiers: [{ value: '3643' }], matched: true, matchedBy: 'device' });
      expect(r.source.serial).to.equal('AF20052397');
    },
  },
  'cepheid-genexpert.txt': {
    profile: 'cepheid-genexpert', results: [['PR25A137', 84]], mapped: 0, matched: 0,
    check: ({ results: [r] }, message) => {
      expect(message.delimiters).to.deep.equal({ field: '|', repeat: '@', component: '^', escape: '\\' });
      expect(r.observations.slice(0, 3).map((o) => [o.deviceCode.code, o.value])).to.deep.equal([
        ['MTB-RIF^Xpert^MTB', 'NOT DETECTED'], ['MTB-RIF^Xpert^rpoB1', 'INVALID'], ['MTB-RIF^Xpert^rpoB1^Ct', 0],
      ]);
      expect(r.observations[14]).to.include({ value: 24.7, valueType: 'NM' });
      expect(r.status).to.equal('final'); // sub-results take the order's report type (O.26 F)
      expect(r.patient).to.equal(undefined);
      expect(message.patients[0].orders[0].results.filter((g) => g.comments.length > 0)).to.have.length(3);
    },
  },
  'horiba-pentra-xlr.txt': {
    profile: 'horiba-pentra-xlr', results: [['S1234', 21]], mapped: 18, matched: 0,
    check: ({ results: [r] }) => {
      expect(r.patient).to.deep.include({ identifiers: [], matched: false, birthDate: '1977-12-01', sex: 'F' });
      const bas = r.observations.find((o) => o.deviceCode.code === 'BAS#')!;
      expect(bas).to.deep.include({ valueType: 'ST', value: '-----', flags: ['HH'], status: 'X' });
      expect(r.observations[0].comment).to.equal('Alarm_WBC^LMNE-^BASO+^LL^NL^LN^NO^SL1\nLARGE IMMATURE CELL^NRBCs');
      expect(r.observations.find((o) => o.deviceCode.code === 'RBC')!.code?.code).to.equal('789-8'); // not the device's 789-9
      expect(r.status).to.equal('preliminary'); // W (suspicion) results
    },
  },
  'horiba-yumizen-h500.txt': {
    profile: 'horiba-yumizen-h5xx', results: [], controls: [['PX440N', 21]], mapped: 21, matched: 0,
    // This capture was re-assembled by its tool: frame numbers go 1 2 3 4 5 1 1 1 4 5 …
    link: { frameNumbers: 'lenient' },
    check: ({ controls: [c] }, message) => {
      expect(message.patients[0].orders[0].manufacturer.map((m) => m.get(3))).to.deep.equal(['HISTOGRAM', 'HISTOGRAM', 'MATRIX', 'REAGENT']);
      expect(c.observations[0]).to.deep.include({ value: 90.6, unit: { code: 'fL', system: 'UCUM', display: 'um3' }, referenceRange: { text: '84.0 - 94.0', low: 84, high: 94 } });
      expect(c.source).to.deep.include({ serial: '910YOXH02826', softwareVersion: '2.2.2.2b' });
    },
  },
  'roche-cobas-c111.txt': {
    profile: 'roche-cobas-c111', results: [['T20 10134GA D28', 1]], mapped: 0, matched: 0,
    check: ({ results: [r] }, message) => {
      expect(r.observations[0]).to.deep.include({ deviceCode: { code: '413', system: '99ROCHE' }, value: 40.13, unit: { code: 'g/L', system: 'UCUM', display: 'g/L' }, unmapped: true });
      expect(message.patients[0].orders[0].results[0].manufacturer).to.have.length(1);
    },
  },
  'roche-cobas-c311.txt': {
    profile: 'roche-cobas-c311', results: [['CL-PL-24-0370', 7]], mapped: 0, matched: 0,
    check: ({ results: [r] }) => {
      expect(r.observations.map((o) => o.deviceCode.code)).to.deep.equal(['685/', '687/', '712/', '158/', '735/', '717/', '690/']);
      expect(r.observations[0].comment).to.equal('43');
      expect(r.observations[0].unit).to.deep.equal({ code: 'U/L', system: 'UCUM', display: 'U/l' });
    },
  },
  'siemens-dca-vantage.txt': {
    profile: 'siemens-dca-vantage', results: [['660', 3]], mapped: 3, matched: 1,
    check: ({ results: [r] }) => {
      expect(r.observations.map((o) => [o.code?.code, o.value, o.unit?.code])).to.deep.equal([['14957-5', 63.7, 'mg/L'], ['2161-8', 230.8, 'mg/dL'], ['14959-1', 27.6, 'mg/g']]);
    },
  },
  'sysmex-xn550.txt': {
    profile: 'sysmex-xn', results: [['27', 41]], mapped: 21, matched: 1,
    check: ({ results: [r] }) => {
      expect(r.patient).to.deep.include({ identifiers: [{ value: '37182' }], matched: true, birthDate: '1987-06-26', sex: 'M' });
      expect(r.patient?.name).to.deep.equal({ family: 'Brown', given: ['Jim'] });
      expect(r.observations.find((o) => o.deviceCode.code === 'SCAT_WDF')!.value).to.equal('PNG\\20240628\\2024_06_27_13_54_27_WDF.PNG');
      expect(r.observations.find((o) => o.deviceCode.code === 'Eosinophilia')).to.deep.include({ flags: ['A'], valueType: 'ST' });
      expect(r.observations[0].comment).to.equal('POST HD');
    },
  },
  'sysmex-xp100.txt': {
    profile: 'sysmex-xp', results: [['113', 20]], mapped: 15, matched: 0,
    check: ({ results: [r] }) => {
      expect(r.observations[0]).to.deep.include({ value: 5.5, status: 'F', code: { code: '6690-2', system: 'LN', display: 'Leucocytes' } });
      expect(r.status).to.equal('final');
    },
  },
  'go-astm_biorad-ihcom-v52_bloodtype-por.astm': {
    profile: 'biorad-ihcom', results: [['1122206642', 4], ['1122206642', 1]], mapped: 0, matched: 2,
    check: ({ results }) => expect(results[0].id).to.not.equal(results[1].id),
  },
  'go-astm_biorad-ihcom-v52_bloodtype.astm': {
    profile: 'biorad-ihcom', results: [['1122206642', 4]], mapped: 0, matched: 1,
    check: ({ results: [r] }) => {
      expect(r.observations.map((o) => o.value)).to.deep.equal([40, 0, 0, 'A^NEG^NEG^ccee^K-^NEG']);
      expect(r.observations[0].observedAt).to.equal('2022-03-11T11:41:03+01:00'); // R.12: R.13 is empty
      expect(r.patient?.name).to.deep.equal({ family: 'Testus', given: ['Test'] });
    },
  },
  'go-astm_euroimmun-analyzer1_sampleigg.astm': {
    profile: 'euroimmun-analyzer-i', results: Array.from({ length: 20 }, () => [undefined, 1] as [undefined, number]), mapped: 0, matched: 20,
    check: ({ results }) => {
      expect(results[0].observations[0].value).to.deep.equal({ comparator: '>', number: 8 });
      expect(results[1].observations[0]).to.deep.include({ valueType: 'NM', value: 7.41, unit: { code: 'Ratio' } });
      expect(results[0].patient?.identifiers).to.deep.equal([{ value: 'TEST-27-079-5-1' }]);
      expect(new Set(results.map((r) => r.id)).size).to.equal(20);
    },
  },
  'go-astm_horiba-yumizen-h550_result.astm': {
    profile: 'horiba-yumizen-h5xx', results: [], controls: [['PX449L', 20]], mapped: 20, matched: 0,
    check: (mapped, message) => {
      expect(message.delimiters).to.deep.equal({ field: '|', repeat: '\\', component: '^', escape: '&' });
      expect(mapped.warnings[0]).to.match(/twice/);
      expect(message.patients[0].orders[0].manufacturer.map((m) => m.get(3))).to.deep.equal(['HISTOGRAM', 'MATRIX', 'REAGENT']);
    },
  },
  'go-astm_immucor-galileo-echo_order.astm': {
    profile: 'immucor-galileo-echo', results: [], skipped: 1, mapped: 0, matched: 0,
    check: (_, message) => expect(message.terminator?.get(3)).to.equal('N '),
  },
  'go-astm_immucor-galileo-echo_result.astm': {
    profile: 'immucor-galileo-echo', results: [['0651439A', 9], ['0651439A', 5]], mapped: 0, matched: 2,
    check: ({ results }) => {
      expect(results[0].observations[2]).to.deep.include({ deviceCode: { code: 'Anti-B', system: '99IMMUCOR' }, valueType: 'ST', value: '3+^3+^45' });
      expect(results[1].observations[4].value).to.equal('Pos');
    },
  },
};

/** A small seeded generator: the same chunkings on every run, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHUNKINGS = 25;

/** Feeds ENQ + capture + EOT in the given pieces; returns the text received and the replies. */
function receive(bytes: Buffer, pieces: (whole: Buffer) => Buffer[], link: Partial<LinkSettings> = {}) {
  const h = harness(link);
  for (const piece of pieces(Buffer.concat([Buffer.from([BYTE.ENQ]), bytes, Buffer.from([BYTE.EOT])]))) h.feed(piece);
  expect(h.messages, 'one message').to.have.length(1);
  expect(h.incomplete).to.have.length(0);
  return { text: h.messages[0].text.toString('latin1'), replies: h.out, frames: h.messages[0].frames, raw: h.messages[0].raw };
}

const byteByByte = (whole: Buffer) => [...whole].map((b) => Buffer.from([b]));
const randomChunks = (seed: number) => (whole: Buffer) => {
  const next = random(seed);
  const pieces: Buffer[] = [];
  for (let i = 0; i < whole.length;) {
    const size = 1 + Math.floor(next() * (next() < 0.5 ? 16 : 4000));
    pieces.push(whole.subarray(i, i + size));
    i += size;
  }
  return pieces;
};

function messageText(file: string): string {
  const { bytes, framed } = fixture(file);
  return framed ? expectedText(bytes) : bytes.toString('latin1');
}

const summary: string[] = [];

function title(file: string): string {
  const e = EXPECTED[file];
  const obs = (list: Array<[string | undefined, number]>) => list.reduce((n, [, count]) => n + count, 0);
  const parts = [`${e.results.length} result(s), ${obs(e.results)} observation(s)`];
  if (e.controls) parts.push(`${e.controls.length} QC result(s), ${obs(e.controls)} observation(s)`);
  if (e.skipped) parts.push(`${e.skipped} order(s) without results`);
  parts.push(`${e.mapped} LOINC-mapped`, `${e.matched} patient(s) identified by the device`);
  return `${file} [${e.profile}]: ${parts.join(', ')}`;
}

describe('astm fixtures: every capture in ../shared/fixtures/astm', function () {
  this.timeout(60_000);

  it('the expectations cover exactly the files in the folder', () => {
    expect(Object.keys(EXPECTED).sort()).to.deep.equal([...FRAMED_FIXTURES, ...RECORD_FIXTURES].sort());
    for (const file of Object.keys(EXPECTED)) fixture(file); // fails with a clear message when ../shared is absent
  });

  describe(`framed captures through the receiver: byte by byte and in ${CHUNKINGS} random chunkings each`, () => {
    for (const file of FRAMED_FIXTURES) {
      it(file, () => {
        const { bytes } = fixture(file);
        const expected = expectedText(bytes);
        const link = EXPECTED[file].link;
        const one = receive(bytes, byteByByte, link);
        const frameCount = bytes.filter((b) => b === BYTE.STX).length;
        expect(one.replies).to.deep.equal([BYTE.ACK, ...Array(frameCount).fill(BYTE.ACK)]); // ENQ and every frame acknowledged
        expect(one.frames).to.equal(frameCount);
        expect(one.text).to.equal(expected);
        expect(one.raw.subarray(1, -1).equals(bytes)).to.equal(true);
        for (let seed = 1; seed <= CHUNKINGS; seed += 1) {
          const chunked = receive(bytes, randomChunks(seed * 7919 + bytes.length), link);
          expect(chunked.text, `seed ${seed}`).to.equal(expected);
          expect(chunked.replies).to.deep.equal(one.replies);
        }
      });
    }

    it('horiba-yumizen-h500.txt with strict frame numbers: the renumbered frames are refused (why its test is lenient)', () => {
      const h = harness();
      h.feed([BYTE.ENQ]);
      h.feed(fixture('horiba-yumizen-h500.txt').bytes);
      const refused = h.frames.filter((f) => f.outcome === 'rejected');
      expect(h.frames.slice(0, 5).every((f) => f.outcome === 'accepted')).to.equal(true);
      expect(refused[0]).to.include({ frameNumber: 1, reason: 'frame-number' });
      expect(h.out.filter((b) => b === BYTE.NAK).length).to.equal(refused.length);
    });
  });

  describe('record-only captures through the parser', () => {
    for (const file of RECORD_FIXTURES) {
      it(file, () => {
        const text = messageText(file);
        const message = parseMessage(text);
        const lines = text.split(/\r\n|\r|\n/).filter((l) => l.length > 0);
        expect(message.records.map((r) => r.raw)).to.deep.equal(lines);
        expect(message.unknown).to.have.length(0);
        expect(message.terminator).to.not.equal(undefined);
      });
    }
  });

  describe('mapping to canonical results (observations checked against the R records one for one)', () => {
    for (const file of [...FRAMED_FIXTURES, ...RECORD_FIXTURES]) {
      it(title(file), () => {
        const e = EXPECTED[file];
        const message = parseMessage(messageText(file));
        const profile = getProfile(e.profile);
        const mapped = mapMessage(message, profile, { site: 'cso-annecy', deviceClass: 'analyser', deviceId: 'dev-1', receivedAt: '2026-01-15T09:00:00Z' });
        expect(mapped.skipped.filter((s) => s.reason !== 'no result records'), JSON.stringify(mapped.skipped)).to.deep.equal([]);
        expect(mapped.skipped).to.have.length(e.skipped ?? 0);
        expect(mapped.results.map((r) => [r.specimen?.id, r.observations.length])).to.deep.equal(e.results);
        expect(mapped.controls.map((r) => [r.specimen?.id, r.observations.length])).to.deep.equal(e.controls ?? []);
        const all = [...mapped.results, ...mapped.controls];
        for (const result of all) validateResult(result);
        expect(all.flatMap((r) => r.observations).filter((o) => o.code).length).to.equal(e.mapped);
        expect(mapped.results.filter((r) => r.patient?.matched).length).to.equal(e.matched);

        // Observations against the R records, in order, read here with a plain split.
        const d = message.delimiters;
        const rLines = messageText(file).split(/\r\n|\r|\n/).filter((l) => l.startsWith(`R${d.field}`));
        const observations = all.flatMap((r) => r.observations);
        expect(observations).to.have.length(rLines.length);
        rLines.forEach((line, i) => {
          const fields = line.split(d.field);
          const obs = observations[i];
          const codeParts = profile.testCode.components.map((c) => unescapeText((fields[2] ?? '').split(d.repeat)[0].split(d.component)[c - 1] ?? '', d).trim()).filter(Boolean);
          expect(obs.deviceCode.code, `${file} R ${i + 1}`).to.equal(codeParts.join(profile.testCode.separator));
          const components = (fields[3] ?? '').split(d.component).map((c) => unescapeText(c, d));
          const rawValue = profile.value.component === 'first-non-empty' ? components.find((c) => c.trim() !== '') ?? '' : components.join(d.component).replace(new RegExp(`\\${d.component}+$`), '');
          if (obs.valueType === 'NM') expect(obs.value).to.equal(Number(rawValue.trim().replace(',', '.')));
          else if (obs.valueType === 'SN') expect(rawValue.trim().replace(',', '.')).to.match(new RegExp(`^${(obs.value as { comparator: string }).comparator}\\s*${(obs.value as { number: number }).number}`));
          else expect(obs.value ?? '').to.equal(rawValue.trim());
          const unit = (fields[4] ?? '').trim();
          expect(obs.unit?.display ?? obs.unit?.code ?? '').to.equal(unit);
          expect(obs.unmapped === true).to.equal(obs.code === undefined);
        });
        e.check?.(mapped, message);
        summary.push(`  ${title(file)}`);
      });
    }
  });

  after(() => {
    if (summary.length > 0) console.log(`\n  ASTM fixtures mapped (${summary.length} files, ${builtinProfiles().size} profiles shipped):\n${summary.join('\n')}\n`);
  });
});
