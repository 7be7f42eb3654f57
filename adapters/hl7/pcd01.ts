/**
 * Canonical vitals → ORU^R01 in the IHE PCD-01 form (Communicate PCD Data, DEC profile), as
 * device gateways send it to a record:
 *
 *   MSH  v2.6, MSH-21 IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO
 *   PID  as in the v2.5 form (INS with its OID); PV1 the teleconsultation when there is one
 *   OBR  OBR-3 the result id, OBR-4 182777000^monitoring of patient^SCT, OBR-7/8 first and last time
 *   OBX  per device an MDS row (its specialisation code, OBX-4 'm', OBX-11 X), the NIBP compound as a
 *        channel row ('m.0.c') with its metrics under it ('m.0.c.k'), other metrics at 'm.0.0.k';
 *        OBX-3 MDC code, OBX-6 MDC unit code, OBX-18 the device's EUI-64, OBX-20 the body site
 *   NTE  after an OBX: what the hub noticed (out of bounds, converted units...)
 *
 * MSH-15/16 are left empty (original acknowledgement mode): the hub's delivery waits for the
 * record's AA. See docs/vitals.md.
 */
import type { Code, Observation, Result } from '../model';
import { Hl7BuildError } from './errors';
import { blanks, coded, decimal, notes, pidSegment, visitSegment, type OruOptions } from './oru';
import { DEFAULT_TIME_ZONE, formatDateTime } from './time';
import { components, message, segment, type Er7 } from './writer';

export const PCD01_VERSION = '2.6';
export const PCD01_PROFILE = { id: 'IHE_PCD_001', namespace: 'IHE PCD', oid: '1.3.6.1.4.1.19376.1.6.1.1.1', type: 'ISO' } as const;
export const MONITORING_OF_PATIENT = { code: '182777000', display: 'monitoring of patient', system: 'SCT' };

/** What the builder needs to know of the coding table: containment by device profile and compound. */
export interface Pcd01Coding {
  /** The device specialisation (or MDS) code of an observation's device: 528391 for a cuff. */
  profileOf(o: Observation): Code;
  /** The compound (channel) an observation belongs to: 150020 for NIBP systolic/diastolic/mean. */
  compoundOf(o: Observation): Code | undefined;
}

export function buildPcd01Oru(result: Result, options: OruOptions, coding: Pcd01Coding): string {
  if (!options.controlId) throw new Hl7BuildError(`result ${result.id}: a control ID (MSH-10) is required`);
  if (!result.patient?.matched) throw new Hl7BuildError(`result ${result.id}: patient not matched, it cannot be sent to a record`);
  const tz = options.timeZone ?? DEFAULT_TIME_ZONE;
  const at = (instant: string | undefined) => (instant === undefined ? undefined : formatDateTime(instant, tz));
  const times = result.observations.map((o) => o.observedAt).filter((t): t is string => t !== undefined).sort((a, b) => Date.parse(a) - Date.parse(b));
  const profile = components(PCD01_PROFILE.id, PCD01_PROFILE.namespace, PCD01_PROFILE.oid, PCD01_PROFILE.type);

  const segments = [
    segment('MSH', [
      options.sendingApplication, options.sendingFacility, options.receivingApplication, options.receivingFacility,
      formatDateTime(options.now ?? new Date(), tz), undefined, components('ORU', 'R01', 'ORU_R01'), options.controlId,
      options.processingId ?? 'P', PCD01_VERSION, undefined, undefined, undefined, undefined, 'FRA', options.charset, undefined, undefined, profile,
    ]),
    pidSegment(result.patient),
    ...(result.encounter ? [visitSegment(result.encounter)] : []),
    segment('OBR', [
      '1', undefined, components(result.id, options.sendingApplication), coded(MONITORING_OF_PATIENT), undefined, undefined,
      at(times[0] ?? result.times.analysed), at(times[times.length - 1]),
      ...blanks(16), result.status === 'corrected' ? 'C' : 'F',
    ]),
  ];
  let setId = 0;
  const obx = (fields: Array<string | Er7 | undefined>) => segment('OBX', [String(++setId), ...fields]);
  devicesOf(result.observations).forEach((observations, index) => {
    const mds = index + 1;
    const eui64 = observations.find((o) => o.device?.eui64)?.device?.eui64;
    segments.push(obx([undefined, coded(coding.profileOf(observations[0])), String(mds), ...blanks(6), 'X', ...blanks(6), equipment(eui64)]));
    const channels = new Map<string, { ordinal: number; metrics: number }>();
    let plainMetrics = 0;
    for (const o of observations) {
      const compound = coding.compoundOf(o);
      let subId: string;
      if (compound) {
        let channel = channels.get(compound.code);
        if (!channel) {
          channel = { ordinal: channels.size + 1, metrics: 0 };
          channels.set(compound.code, channel);
          segments.push(obx([undefined, coded(compound), `${mds}.0.${channel.ordinal}`, ...blanks(6), 'X', ...blanks(6), equipment(eui64)]));
        }
        subId = `${mds}.0.${channel.ordinal}.${++channel.metrics}`;
      } else {
        subId = `${mds}.0.0.${++plainMetrics}`;
      }
      segments.push(metricRow(o, subId, obx, at), ...notes(o));
    }
  });
  return message(segments);
}

/** Observations grouped by the device that made them (EUI-64, else model and serial), in order of first appearance. */
function devicesOf(observations: Observation[]): Observation[][] {
  const groups = new Map<string, Observation[]>();
  for (const o of observations) {
    const key = o.device?.eui64 ?? `${o.device?.model ?? ''}|${o.device?.serial ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return [...groups.values()];
}

function metricRow(o: Observation, subId: string, obx: (fields: Array<string | Er7 | undefined>) => string, at: (t: string | undefined) => string | undefined): string {
  const code = o.mdc?.code ?? o.deviceCode;
  const unit = o.mdc?.unit ?? o.unit;
  const value = typeof o.value === 'number' ? decimal(o.value) : undefined;
  return obx([
    'NM', coded(code), subId, value, coded(unit), undefined, undefined, undefined, undefined,
    o.status, undefined, undefined, at(o.observedAt), undefined,
    o.operator ? components(o.operator.id, o.operator.name) : undefined, coded(o.method),
    equipment(o.device?.eui64), undefined, coded(o.bodySite),
  ]);
}

/** OBX-18 as EI: the EUI-64 as entity identifier and universal id, with its type. */
function equipment(eui64: string | undefined): Er7 | undefined {
  return eui64 === undefined ? undefined : components(eui64, undefined, eui64, 'EUI-64');
}
