/**
 * A BLE gateway's reading (passerelle.ble/1, docs/vitals.md): one characteristic value as raw
 * bytes, from one device address, published on passerelle/v1/<site>/ble/<gateway id>/reading.
 * Decoded with adapters/ble, then coded like any measurement. The device's clock has no time zone
 * (GATT Date Time): it is read in the site's; absent or unset, the gateway's reception time is used.
 */
import { decodeCharacteristic, type BleDateTime, type HealthMeasurement, type MedFloat } from '../ble';
import { offsetForWallTime } from '../common/time-zone';
import { formatInstant } from '../astm/mapping/time';
import type { Result } from '../model';
import { patientOf } from './cart';
import { FUTURE_TOLERANCE_MS, InvalidVitalsError, type CartVitals } from './contract';
import { eui64FromMac48 } from './eui64';
import { toObservation, type MeasurementInput } from './measurement';
import { unmatchedPatient, vitalsResult, type VitalsContext } from './result';

export const BLE_SCHEMA = 'passerelle.ble/1';

export interface BleReading {
  schema: typeof BLE_SCHEMA;
  address: string;
  characteristic: string;
  /** The characteristic value: hexadecimal (spaces and colons allowed) or base64, per `encoding`. */
  value: string;
  encoding?: 'hex' | 'base64';
  receivedAt?: string;
  device?: { manufacturer?: string; model?: string; serial?: string };
  /** When the cart's software wraps the reading: who it is for. Without a patient the result is held. */
  teleconsultation?: { id: string; room?: string };
  patient?: CartVitals['patient'];
}

export function parseBleReading(payload: Buffer | string): { reading: BleReading; bytes: Buffer } {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new InvalidVitalsError([`not JSON: ${(err as Error).message}`]);
  }
  const r = value as Partial<BleReading>;
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null) throw new InvalidVitalsError(['a BLE reading is a JSON object']);
  if (r.schema !== BLE_SCHEMA) problems.push(`/schema must be ${BLE_SCHEMA}`);
  if (typeof r.address !== 'string' || !eui64FromMac48(r.address)) problems.push('/address must be a Bluetooth device address (AA:BB:CC:DD:EE:FF)');
  if (typeof r.characteristic !== 'string') problems.push('/characteristic must be a UUID (2A35)');
  if (r.receivedAt !== undefined && (typeof r.receivedAt !== 'string' || !/(Z|[+-]\d{2}:\d{2})$/.test(r.receivedAt) || Number.isNaN(Date.parse(r.receivedAt)))) {
    problems.push(`/receivedAt ${String(r.receivedAt)} must be RFC 3339 with its offset`);
  }
  if (r.patient !== undefined && (typeof r.patient !== 'object' || typeof r.patient?.family !== 'string')) problems.push('/patient must have a family name');
  let bytes = Buffer.alloc(0);
  if (typeof r.value !== 'string') problems.push('/value must be a string of bytes');
  else if ((r.encoding ?? 'hex') === 'hex') {
    const hex = r.value.replace(/[\s:-]/g, '');
    if (!/^([0-9A-Fa-f]{2})+$/.test(hex)) problems.push('/value is not hexadecimal bytes');
    else bytes = Buffer.from(hex, 'hex');
  } else if (r.encoding === 'base64') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(r.value)) problems.push('/value is not base64');
    else bytes = Buffer.from(r.value, 'base64');
  } else problems.push(`/encoding ${String(r.encoding)} must be hex or base64`);
  if (problems.length > 0) throw new InvalidVitalsError(problems);
  return { reading: value as BleReading, bytes };
}

export interface BleContext extends Omit<VitalsContext, 'deviceClass' | 'protocol'> {
  timeZone: string;
}

/** A reading → canonical vitals; `qc` when it is a control solution, not a patient's blood. */
export function bleToResult(reading: BleReading, bytes: Buffer, context: BleContext): { result: Result; qc: boolean } {
  let decoded: HealthMeasurement;
  try {
    decoded = decodeCharacteristic(reading.characteristic, bytes);
  } catch (err) {
    throw new InvalidVitalsError([(err as Error).message]);
  }
  const eui64 = eui64FromMac48(reading.address)!;
  const received = reading.receivedAt ?? context.receivedAt.toISOString();
  const device = { ...reading.device, eui64 };
  const timeOf = (t: BleDateTime | undefined, offsetMinutes = 0): { time: string; warnings: string[] } => {
    if (!t || t.year === 0 || t.month === 0 || t.day === 0) return { time: received, warnings: [] };
    const wall = Date.UTC(t.year, t.month - 1, t.day, t.hours, t.minutes, t.seconds) + offsetMinutes * 60_000;
    const offset = offsetForWallTime(wall, context.timeZone);
    const ms = wall - offset * 60_000;
    if (ms > context.receivedAt.getTime() + FUTURE_TOLERANCE_MS) {
      return { time: received, warnings: [`device clock ahead (it said ${formatInstant(ms, offset)}): the gateway's time is used`] };
    }
    return { time: formatInstant(ms, offset), warnings: [] };
  };
  const { list, qc } = measurementsOf(decoded, timeOf, received);
  const observations = list.map((m) => toObservation({ ...m, device: { ...device } }));
  const result = vitalsResult(
    {
      id: `ble.${(context.rawSha256 ?? eui64).slice(0, 32)}`,
      patient: reading.patient ? patientOf(reading.patient) : unmatchedPatient(),
      encounter: reading.teleconsultation ? { id: reading.teleconsultation.id, location: reading.teleconsultation.room } : undefined,
      observations,
    },
    { ...context, deviceClass: 'ble-gateway', protocol: 'ble' },
  );
  return { result, qc };
}

type Timed = (t: BleDateTime | undefined, offsetMinutes?: number) => { time: string; warnings: string[] };
type Partial11073 = Omit<MeasurementInput, 'device'>;

/** The value of an SFLOAT/FLOAT, or why there is none (a special value is said, never turned into a number). */
function valueOf(f: MedFloat): { value?: number; warnings: string[] } {
  return 'value' in f ? { value: f.value, warnings: [] } : { warnings: [`the device sent the special value ${f.special}`] };
}

function measure(quantity: string, f: MedFloat, unit: string, at: { time: string; warnings: string[] }, extra: string[] = []): Partial11073 {
  const v = valueOf(f);
  return { quantity, ...(v.value !== undefined ? { value: v.value } : {}), unit, time: at.time, warnings: [...at.warnings, ...v.warnings, ...extra] };
}

function measurementsOf(d: HealthMeasurement, timeOf: Timed, received: string): { list: Partial11073[]; qc: boolean } {
  switch (d.characteristic) {
    case '2A35': {
      const at = timeOf(d.timestamp);
      const s = d.status;
      const notes = s ? [
        ...(s.bodyMovement ? ['body movement during measurement'] : []), ...(s.cuffTooLoose ? ['cuff fit too loose'] : []),
        ...(s.irregularPulse ? ['irregular pulse detected'] : []), ...(s.improperPosition ? ['improper measurement position'] : []),
        ...(s.pulseRateRange === 'above' ? ['pulse rate exceeds upper limit'] : s.pulseRateRange === 'below' ? ['pulse rate below lower limit'] : []),
      ] : [];
      const list = [
        measure('nibp-systolic', d.systolic, d.unit, at, notes), measure('nibp-diastolic', d.diastolic, d.unit, at, notes),
        measure('nibp-mean', d.meanArterialPressure, d.unit, at, notes),
      ];
      if (d.pulseRate) list.push(measure('pulse-rate-nibp', d.pulseRate, '/min', at, notes));
      return { list, qc: false };
    }
    case '2A1C': {
      const site = d.type ? TEMPERATURE_SITES[d.type.name] : undefined;
      return { list: [{ ...measure('body-temperature', d.temperature, d.unit, timeOf(d.timestamp)), ...(site ? { bodySite: site } : {}) }], qc: false };
    }
    case '2A5E': {
      const at = d.deviceClockNotSet ? { time: received, warnings: [] } : timeOf(d.timestamp);
      const notes = [...(d.measurementStatus ?? []), ...(d.deviceStatus ?? [])];
      return { list: [measure('spo2', d.spo2, '%', at, notes), measure('pulse-rate-oximeter', d.pulseRate, '/min', at, notes)], qc: false };
    }
    case '2A5F': {
      const at = { time: received, warnings: [] };
      const notes = [...(d.measurementStatus ?? []), ...(d.deviceStatus ?? [])];
      return { list: [measure('spo2', d.spo2, '%', at, notes), measure('pulse-rate-oximeter', d.pulseRate, '/min', at, notes)], qc: false };
    }
    case '2A18': {
      const at = timeOf(d.baseTime, d.timeOffsetMinutes ?? 0);
      const qc = d.type?.value === 10 || d.sampleLocation?.value === 4;
      if (!d.concentration) return { list: [{ quantity: 'capillary-glucose', time: at.time, warnings: [...at.warnings, 'no concentration in the record'] }], qc };
      const v = valueOf(d.concentration.value);
      // kg/L × 100 000 = mg/dL; mol/L × 1000 = mmol/L (the table converts mg/dL on).
      const [factor, unit] = d.concentration.unit === 'kg/L' ? [100_000, 'mg/dL'] : [1000, 'mmol/L'];
      const capillary = d.type?.value === 1;
      return {
        list: [{
          quantity: capillary ? 'capillary-glucose' : `glucose (${d.type?.name ?? 'no type'})`,
          ...(v.value !== undefined ? { value: Number((v.value * factor).toPrecision(12)) } : {}),
          unit, time: at.time,
          ...(d.sampleLocation?.name === 'finger' ? { bodySite: 'finger' } : {}),
          warnings: [...at.warnings, ...v.warnings, `sequence number ${d.sequenceNumber}`],
        }],
        qc,
      };
    }
    case '2A9D': {
      const at = timeOf(d.timestamp);
      const [mass, length] = d.unit === 'SI' ? ['kg', 'm'] : ['[lb_av]', '[in_i]'];
      const list: Partial11073[] = [{
        quantity: 'body-weight', ...(d.weight !== undefined ? { value: d.weight } : {}), unit: mass, time: at.time,
        warnings: [...at.warnings, ...(d.weight === undefined ? ['the scale says: measurement unsuccessful'] : [])],
      }];
      if (d.bmi !== undefined) list.push({ quantity: 'bmi', value: d.bmi, unit: 'kg/m2', time: at.time, warnings: at.warnings });
      if (d.height !== undefined) list.push({ quantity: 'body-height', value: d.height, unit: length, time: at.time, warnings: at.warnings });
      return { list, qc: false };
    }
  }
}

/** Temperature Type names → the table's temperature sites. */
const TEMPERATURE_SITES: Record<string, string> = {
  armpit: 'axillary', ear: 'ear', finger: 'finger', 'gastro-intestinal': 'gastro-intestinal', mouth: 'oral', rectum: 'rectal', toe: 'toe', tympanum: 'tympanic',
};
