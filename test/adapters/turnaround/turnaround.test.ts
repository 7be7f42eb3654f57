import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImagingEvent, Result } from '../../../adapters/model';
import {
  computeTurnaround, INTERVALS, keyFigures, lifeOfImagingObject, median, parseTargets, percentile, SilenceWatch, turnaroundOfLife, turnaroundsOf, type DeliveryLife, type Turnaround,
} from '../../../adapters/turnaround';

const example = (): Result => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'result.example.json'), 'utf8')) as Result;
const at = (iso: string) => Date.parse(iso);

/** A biology result with a plain life: collected 09:00, analysed 09:08, received 09:09, sent 09:09:02, accepted 09:09:03 (UTC). */
function life(overrides: { times?: Partial<Result['times']>; collectedAt?: string } = {}): { result: Result; delivery: DeliveryLife } {
  const result = example();
  result.id = 'R-1';
  result.times = { ordered: '2026-11-24T08:40:00Z', collected: '2026-11-24T09:00:00Z', analysed: '2026-11-24T09:08:00Z', received: '2026-11-24T09:09:00Z', ...overrides.times };
  if (overrides.collectedAt !== undefined) result.specimen = { ...result.specimen, collectedAt: overrides.collectedAt };
  return { result, delivery: { destination: 'ehr', state: 'accepted', outboundId: 42, sentAt: at('2026-11-24T09:09:02Z'), updatedAt: at('2026-11-24T09:09:03Z') } };
}

describe('turnaround of one result to one destination', () => {
  it('computes every interval in seconds, the exam code, and the biology target of 20 minutes on collected → accepted', () => {
    const { result, delivery } = life();
    const t = computeTurnaround(result, delivery)!;
    expect(t.intervals).to.deep.equal({
      ordered_to_accepted_s: 29 * 60 + 3,
      collected_to_accepted_s: 9 * 60 + 3,
      collected_to_analysed_s: 8 * 60,
      analysed_to_received_s: 60,
      analysed_to_accepted_s: 63,
      received_to_sent_s: 2,
      sent_to_accepted_s: 1,
      received_to_accepted_s: 3,
    });
    expect(t).to.include({ resultId: 'R-1', site: 'cso-annecy', kind: 'biology', device: 'yumizen-h500-1', exam: '58410-2', destination: 'ehr', outcome: 'accepted', outboundId: 42, missing: 0, clockSkew: false, observations: result.observations.length });
    expect(t.target).to.deep.equal({ interval: 'collected_to_accepted_s', seconds: 1200, met: true });
  });

  it('has no turnaround while the delivery is not final', () => {
    const { result, delivery } = life();
    for (const state of ['pending', 'sent', 'waiting']) expect(computeTurnaround(result, { ...delivery, state })).to.equal(undefined);
  });

  it('takes the exam code from the first observation when there is no order code (LOINC, else the device code), and per-exam targets from data', () => {
    const { result, delivery } = life();
    delete result.order;
    const targets = parseTargets({ biology: { default: 1200, exams: { '6690-2': 300 } } });
    const t = computeTurnaround(result, delivery, { targets })!;
    expect(t.exam).to.equal('6690-2');
    expect(t.target).to.deep.equal({ interval: 'collected_to_accepted_s', seconds: 300, met: false });
    delete result.observations[0].code;
    expect(computeTurnaround(result, delivery, { targets })!.exam).to.equal('WBC');
    expect(computeTurnaround(result, delivery, { targets })!.target!.seconds).to.equal(1200);
  });

  it('leaves out and counts the intervals whose times are absent, without falling back to another interval for the target', () => {
    const { result, delivery } = life({ times: { collected: undefined, ordered: undefined } });
    delete result.specimen!.collectedAt;
    const t = computeTurnaround(result, delivery)!;
    expect(Object.keys(t.intervals).sort()).to.deep.equal(['analysed_to_accepted_s', 'analysed_to_received_s', 'received_to_accepted_s', 'received_to_sent_s', 'sent_to_accepted_s']);
    expect(t.missing).to.equal(3);
    expect(t.target).to.deep.equal({ interval: 'collected_to_accepted_s', seconds: 1200 });
  });

  it('takes the specimen collection time when times.collected is absent', () => {
    const { result, delivery } = life({ times: { collected: undefined }, collectedAt: '2026-11-24T09:05:00Z' });
    expect(computeTurnaround(result, delivery)!.intervals.collected_to_accepted_s).to.equal(4 * 60 + 3);
  });

  it('flags a device clock ahead of the hub, or a day behind it, and leaves out every interval touching that time', () => {
    const ahead = life({ times: { analysed: '2026-11-24T09:20:00Z' } });
    const t = computeTurnaround(ahead.result, ahead.delivery)!;
    expect(t.clockSkew).to.equal(true);
    expect(t.skewed).to.deep.equal(['analysed']);
    expect(t.intervals).to.not.have.any.keys('collected_to_analysed_s', 'analysed_to_received_s', 'analysed_to_accepted_s');
    expect(t.missing).to.equal(3);
    expect(t.intervals.collected_to_accepted_s).to.equal(9 * 60 + 3);

    const behind = life({ times: { collected: '2026-11-23T08:00:00Z' } }); // 25 h before reception
    const b = computeTurnaround(behind.result, behind.delivery)!;
    expect(b.skewed).to.deep.equal(['collected']);
    expect(b.target).to.deep.equal({ interval: 'collected_to_accepted_s', seconds: 1200 });
    expect(computeTurnaround(behind.result, behind.delivery, { maxDeviceLeadHours: 48 })!.clockSkew).to.equal(false);
  });

  it('gives a dead letter only the intervals that do not end with an acceptance, and no target verdict', () => {
    const { result, delivery } = life();
    const t = computeTurnaround(result, { ...delivery, state: 'dead' })!;
    expect(t.outcome).to.equal('dead');
    expect(Object.keys(t.intervals).sort()).to.deep.equal(['analysed_to_received_s', 'collected_to_analysed_s', 'received_to_sent_s']);
    expect(t.missing).to.equal(0);
    expect(t.target).to.deep.equal({ interval: 'collected_to_accepted_s', seconds: 1200 });
  });

  it('an imaging object on its way to the PACS: acquired → the hub → the PACS, the moments it cannot have neither computed nor counted missing', () => {
    const event = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'imaging-event.example.json'), 'utf8')) as ImagingEvent;
    event.times = { ...event.times, acquired: '2026-11-24T10:00:00+01:00', received: '2026-11-24T09:02:00Z' };
    const t = turnaroundOfLife(lifeOfImagingObject(event), { destination: 'pacs', state: 'accepted', outboundId: 7, sentAt: at('2026-11-24T09:02:01Z'), updatedAt: at('2026-11-24T09:02:05Z') })!;
    expect(t.intervals).to.deep.equal({ analysed_to_received_s: 120, analysed_to_accepted_s: 125, received_to_sent_s: 1, sent_to_accepted_s: 4, received_to_accepted_s: 5 });
    expect(t).to.include({ resultId: event.id, kind: 'imaging', device: event.source.deviceId, exam: event.modality, destination: 'pacs', missing: 0, observations: 1 });
    expect(t.target, 'no target for imaging by default').to.equal(undefined);
    delete event.times.acquired;
    delete event.times.content;
    expect(turnaroundOfLife(lifeOfImagingObject(event), { destination: 'pacs', state: 'accepted', sentAt: at('2026-11-24T09:02:01Z'), updatedAt: at('2026-11-24T09:02:05Z') })!.missing).to.equal(2);
  });

  it('reads a results-board row (result + DeliverySummary list)', () => {
    const { result, delivery } = life();
    const rows = turnaroundsOf({ result, deliveries: [delivery, { ...delivery, destination: 'gp', state: 'waiting' }] });
    expect(rows.map((t) => t.destination)).to.deep.equal(['ehr']);
  });

  it('refuses targets that are not data it understands, naming the part', () => {
    expect(() => parseTargets({ biologie: {} })).to.throw(/unknown kind "biologie"/);
    expect(() => parseTargets({ biology: { default: -5 } })).to.throw(/targets.biology.default/);
    expect(() => parseTargets({ biology: { interval: 'collected_to_sent_s' } })).to.throw(/targets.biology.interval/);
    expect(() => parseTargets({ biology: { exams: { '4548-4': '1h' } } })).to.throw(/targets.biology.exams\["4548-4"\]/);
    expect(parseTargets({ imaging: { interval: 'ordered_to_accepted_s', default: 3600 } })).to.deep.equal({ imaging: { interval: 'ordered_to_accepted_s', default: 3600 } });
  });

  it('never gives a negative interval, whatever the times, and counts exactly the ones it leaves out (property)', () => {
    const base = at('2026-11-24T09:00:00Z');
    const hour = 3_600_000;
    const maybeTime = fc.option(fc.integer({ min: -30 * hour, max: 30 * hour }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({ ordered: maybeTime, collected: maybeTime, analysed: maybeTime, received: maybeTime, sent: maybeTime, final: fc.integer({ min: -30 * hour, max: 30 * hour }), dead: fc.boolean() }),
        (times) => {
          const { result } = life();
          const iso = (offset: number | undefined) => (offset === undefined ? undefined : new Date(base + offset).toISOString());
          result.times = { ordered: iso(times.ordered), collected: iso(times.collected), analysed: iso(times.analysed), received: iso(times.received) ?? 'not a time' };
          delete result.specimen!.collectedAt;
          const delivery: DeliveryLife = { destination: 'ehr', state: times.dead ? 'dead' : 'accepted', sentAt: times.sent === undefined ? undefined : base + times.sent, updatedAt: base + times.final };
          const t = computeTurnaround(result, delivery)!;
          const values = Object.values(t.intervals);
          expect(values.every((v) => v >= 0 && Number.isFinite(v))).to.equal(true);
          const applicable = times.dead ? 3 : INTERVALS.length;
          expect(values.length + t.missing).to.equal(applicable);
          if (t.target?.met !== undefined) expect(t.intervals.collected_to_accepted_s).to.be.a('number');
          // a skewed device time never shows up in an interval
          if (t.skewed.includes('analysed')) expect(t.intervals).to.not.have.any.keys('collected_to_analysed_s', 'analysed_to_received_s', 'analysed_to_accepted_s');
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('key figures over turnarounds', () => {
  function turnaround(seconds: number | undefined, over: Partial<Turnaround> = {}): Turnaround {
    const intervals = seconds === undefined ? {} : { collected_to_accepted_s: seconds };
    return {
      resultId: `R-${seconds}`, site: 's', kind: 'biology', device: 'dca-vantage-1', exam: '4548-4', destination: 'ehr', outcome: 'accepted',
      at: at('2026-11-24T09:30:00Z'), intervals, missing: seconds === undefined ? 1 : 0, clockSkew: false, skewed: [], observations: 1,
      target: seconds === undefined ? { interval: 'collected_to_accepted_s', seconds: 1200 } : { interval: 'collected_to_accepted_s', seconds: 1200, met: seconds <= 1200 },
      ...over,
    };
  }

  it('computes median and 90th percentile as InfluxQL does', () => {
    expect(median([1, 2, 3, 4])).to.equal(2.5);
    expect(median([5, 1, 9].sort((a, b) => a - b))).to.equal(5);
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 90)).to.equal(9);
    expect(percentile([1, 2, 3], 90)).to.equal(3);
    expect(percentile([7], 90)).to.equal(7);
    expect(Number.isNaN(percentile([], 90))).to.equal(true);
  });

  it('gives the share within target per local day, spreads per exam and device, volumes per hour, the slowest', () => {
    const list = [
      turnaround(600),
      turnaround(900, { device: 'yumizen-h500-1', exam: '58410-2' }),
      turnaround(1500),
      turnaround(undefined),
      turnaround(2400, { at: at('2026-11-24T23:30:00Z') }), // 00:30 on the 25th in Paris
    ];
    const figures = keyFigures(list, { slowest: 2 });
    expect(figures.days).to.deep.equal([
      { day: '2026-11-24', results: 4, withTarget: 3, withinTarget: 2, share: 2 / 3 },
      { day: '2026-11-25', results: 1, withTarget: 1, withinTarget: 0, share: 0 },
    ]);
    expect(figures.exams).to.deep.equal([
      { key: '4548-4', count: 3, median: 1500, p90: 2400 },
      { key: '58410-2', count: 1, median: 900, p90: 900 },
    ]);
    expect(figures.devices.map((d) => d.key)).to.deep.equal(['dca-vantage-1', 'yumizen-h500-1']);
    expect(figures.hours).to.deep.equal([{ hour: '2026-11-24T10', results: 4 }, { hour: '2026-11-25T00', results: 1 }]);
    expect(figures.slowest.map((t) => t.intervals.collected_to_accepted_s)).to.deep.equal([2400, 1500]);
  });
});

describe('silent devices', () => {
  const MIN = 60_000;
  const analyser = { site: 'centre-soins-nord', kind: 'biology', device: 'afinion-2' };

  it('says a device silent after the minimum gap when it usually speaks more often, once, until it speaks again', () => {
    const watch = new SilenceWatch(60 * MIN);
    for (let k = 0; k <= 10; k += 1) watch.seen(analyser, k * 2 * MIN); // every 2 minutes until minute 20
    expect(watch.check(20 * MIN + 60 * MIN)).to.deep.equal([]);
    const [alert] = watch.check(20 * MIN + 61 * MIN);
    expect(alert).to.include({ type: 'device-silent', device: 'afinion-2', seconds: 61 * 60, allowedSeconds: 60 * 60, lastSeen: new Date(20 * MIN).toISOString() });
    expect(watch.check(20 * MIN + 90 * MIN), 'said once').to.deep.equal([]);
    watch.seen(analyser, 20 * MIN + 95 * MIN);
    expect(watch.check(20 * MIN + 95 * MIN + 61 * MIN)).to.have.length(1);
  });

  it('waits three usual gaps for a device used about once an hour, not the minimum', () => {
    const watch = new SilenceWatch(20 * MIN);
    const gaps = [55, 65, 60, 58, 62]; // minutes; median 60
    let at = 0;
    watch.seen(analyser, at);
    for (const gap of gaps) watch.seen(analyser, (at += gap * MIN));
    expect(watch.check(at + 179 * MIN), 'under three usual gaps').to.deep.equal([]);
    const [alert] = watch.check(at + 181 * MIN);
    expect(alert).to.include({ allowedSeconds: 180 * 60, seconds: 181 * 60 });
  });
});
