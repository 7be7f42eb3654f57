/**
 * The GATT health characteristics a cart's devices send (Bluetooth SIG GATT Specification
 * Supplement; layouts in docs/vitals.md): blood pressure 0x2A35, temperature 0x2A1C, PLX
 * spot-check 0x2A5E and continuous 0x2A5F, glucose 0x2A18, weight 0x2A9D. Each decoder reads the
 * flags, then exactly the fields they announce, in order.
 */
import { BleDecodeError, ByteReader, type BleDateTime, type MedFloat } from './reader';

export interface BloodPressureMeasurement {
  characteristic: '2A35';
  unit: 'mmHg' | 'kPa';
  systolic: MedFloat;
  diastolic: MedFloat;
  meanArterialPressure: MedFloat;
  timestamp?: BleDateTime;
  pulseRate?: MedFloat;
  userId?: number;
  status?: {
    bodyMovement: boolean;
    cuffTooLoose: boolean;
    irregularPulse: boolean;
    pulseRateRange: 'within' | 'above' | 'below' | 'reserved';
    improperPosition: boolean;
  };
}

export function decodeBloodPressure(bytes: Buffer): BloodPressureMeasurement {
  const r = new ByteReader(bytes, 'blood pressure 0x2A35');
  const flags = r.uint8('flags');
  const m: BloodPressureMeasurement = {
    characteristic: '2A35',
    unit: flags & 0x01 ? 'kPa' : 'mmHg',
    systolic: r.sfloat('systolic'),
    diastolic: r.sfloat('diastolic'),
    meanArterialPressure: r.sfloat('mean arterial pressure'),
  };
  if (flags & 0x02) m.timestamp = r.dateTime('time stamp');
  if (flags & 0x04) m.pulseRate = r.sfloat('pulse rate');
  if (flags & 0x08) m.userId = r.uint8('user id');
  if (flags & 0x10) {
    const s = r.uint16('measurement status');
    m.status = {
      bodyMovement: (s & 0x01) !== 0,
      cuffTooLoose: (s & 0x02) !== 0,
      irregularPulse: (s & 0x04) !== 0,
      pulseRateRange: (['within', 'above', 'below', 'reserved'] as const)[(s >> 3) & 0x03],
      improperPosition: (s & 0x20) !== 0,
    };
  }
  return m;
}

/** Temperature Type (0x2A1D) values. */
export const TEMPERATURE_TYPES: Record<number, string> = {
  1: 'armpit', 2: 'body', 3: 'ear', 4: 'finger', 5: 'gastro-intestinal', 6: 'mouth', 7: 'rectum', 8: 'toe', 9: 'tympanum',
};

export interface TemperatureMeasurement {
  characteristic: '2A1C';
  unit: 'Cel' | '[degF]';
  temperature: MedFloat;
  timestamp?: BleDateTime;
  /** 0x2A1D value and its name ('unknown' for a reserved value). */
  type?: { value: number; name: string };
}

export function decodeTemperature(bytes: Buffer): TemperatureMeasurement {
  const r = new ByteReader(bytes, 'temperature 0x2A1C');
  const flags = r.uint8('flags');
  const m: TemperatureMeasurement = { characteristic: '2A1C', unit: flags & 0x01 ? '[degF]' : 'Cel', temperature: r.float('temperature') };
  if (flags & 0x02) m.timestamp = r.dateTime('time stamp');
  if (flags & 0x04) {
    const value = r.uint8('temperature type');
    m.type = { value, name: TEMPERATURE_TYPES[value] ?? 'unknown' };
  }
  return m;
}

/** PLX Measurement Status (uint16) bits that make a reading doubtful or not a patient's. */
const PLX_MEASUREMENT_STATUS: Array<[number, string]> = [
  [1 << 5, 'measurement ongoing'], [1 << 6, 'early estimated data'], [1 << 9, 'data from measurement storage'],
  [1 << 10, 'data for demonstration'], [1 << 11, 'data for testing'], [1 << 12, 'calibration ongoing'],
  [1 << 13, 'measurement unavailable'], [1 << 14, 'questionable measurement detected'], [1 << 15, 'invalid measurement detected'],
];
/** PLX Device and Sensor Status (uint24) bits. */
const PLX_DEVICE_STATUS: Array<[number, string]> = [
  [1 << 0, 'extended display update ongoing'], [1 << 1, 'equipment malfunction detected'], [1 << 2, 'signal processing irregularity detected'],
  [1 << 3, 'inadequate signal detected'], [1 << 4, 'poor signal detected'], [1 << 5, 'low perfusion detected'],
  [1 << 6, 'erratic signal detected'], [1 << 7, 'nonpulsatile signal detected'], [1 << 8, 'questionable pulse detected'],
  [1 << 9, 'signal analysis ongoing'], [1 << 10, 'sensor interference detected'], [1 << 11, 'sensor unconnected to user'],
  [1 << 12, 'unknown sensor connected'], [1 << 13, 'sensor displaced'], [1 << 14, 'sensor malfunctioning'], [1 << 15, 'sensor disconnected'],
];

function statusNames(value: number, table: Array<[number, string]>): string[] {
  return table.filter(([bit]) => (value & bit) !== 0).map(([, name]) => name);
}

export interface PlxSpotCheck {
  characteristic: '2A5E';
  spo2: MedFloat;
  pulseRate: MedFloat;
  timestamp?: BleDateTime;
  /** Status bits set, by name. */
  measurementStatus?: string[];
  deviceStatus?: string[];
  pulseAmplitudeIndex?: MedFloat;
  deviceClockNotSet: boolean;
}

export function decodePlxSpotCheck(bytes: Buffer): PlxSpotCheck {
  const r = new ByteReader(bytes, 'PLX spot-check 0x2A5E');
  const flags = r.uint8('flags');
  const m: PlxSpotCheck = { characteristic: '2A5E', spo2: r.sfloat('SpO2'), pulseRate: r.sfloat('pulse rate'), deviceClockNotSet: (flags & 0x10) !== 0 };
  if (flags & 0x01) m.timestamp = r.dateTime('time stamp');
  if (flags & 0x02) m.measurementStatus = statusNames(r.uint16('measurement status'), PLX_MEASUREMENT_STATUS);
  if (flags & 0x04) m.deviceStatus = statusNames(r.uint24('device and sensor status'), PLX_DEVICE_STATUS);
  if (flags & 0x08) m.pulseAmplitudeIndex = r.sfloat('pulse amplitude index');
  return m;
}

export interface PlxContinuous {
  characteristic: '2A5F';
  spo2: MedFloat;
  pulseRate: MedFloat;
  fast?: { spo2: MedFloat; pulseRate: MedFloat };
  slow?: { spo2: MedFloat; pulseRate: MedFloat };
  measurementStatus?: string[];
  deviceStatus?: string[];
  pulseAmplitudeIndex?: MedFloat;
}

export function decodePlxContinuous(bytes: Buffer): PlxContinuous {
  const r = new ByteReader(bytes, 'PLX continuous 0x2A5F');
  const flags = r.uint8('flags');
  const m: PlxContinuous = { characteristic: '2A5F', spo2: r.sfloat('SpO2 normal'), pulseRate: r.sfloat('pulse rate normal') };
  if (flags & 0x01) m.fast = { spo2: r.sfloat('SpO2 fast'), pulseRate: r.sfloat('pulse rate fast') };
  if (flags & 0x02) m.slow = { spo2: r.sfloat('SpO2 slow'), pulseRate: r.sfloat('pulse rate slow') };
  if (flags & 0x04) m.measurementStatus = statusNames(r.uint16('measurement status'), PLX_MEASUREMENT_STATUS);
  if (flags & 0x08) m.deviceStatus = statusNames(r.uint24('device and sensor status'), PLX_DEVICE_STATUS);
  if (flags & 0x10) m.pulseAmplitudeIndex = r.sfloat('pulse amplitude index');
  return m;
}

export const GLUCOSE_TYPES: Record<number, string> = {
  1: 'capillary whole blood', 2: 'capillary plasma', 3: 'venous whole blood', 4: 'venous plasma', 5: 'arterial whole blood',
  6: 'arterial plasma', 7: 'undetermined whole blood', 8: 'undetermined plasma', 9: 'interstitial fluid', 10: 'control solution',
};
export const GLUCOSE_SAMPLE_LOCATIONS: Record<number, string> = { 1: 'finger', 2: 'alternate site test', 3: 'earlobe', 4: 'control solution', 15: 'not available' };

export interface GlucoseMeasurement {
  characteristic: '2A18';
  sequenceNumber: number;
  baseTime: BleDateTime;
  timeOffsetMinutes?: number;
  concentration?: { value: MedFloat; unit: 'kg/L' | 'mol/L' };
  type?: { value: number; name: string };
  sampleLocation?: { value: number; name: string };
  sensorStatus?: number;
  contextFollows: boolean;
}

export function decodeGlucose(bytes: Buffer): GlucoseMeasurement {
  const r = new ByteReader(bytes, 'glucose 0x2A18');
  const flags = r.uint8('flags');
  const m: GlucoseMeasurement = { characteristic: '2A18', sequenceNumber: r.uint16('sequence number'), baseTime: r.dateTime('base time'), contextFollows: (flags & 0x10) !== 0 };
  if (flags & 0x01) m.timeOffsetMinutes = r.sint16('time offset');
  if (flags & 0x02) {
    m.concentration = { value: r.sfloat('glucose concentration'), unit: flags & 0x04 ? 'mol/L' : 'kg/L' };
    const typeAndLocation = r.uint8('type and sample location');
    const type = typeAndLocation & 0x0f;
    const location = typeAndLocation >> 4;
    m.type = { value: type, name: GLUCOSE_TYPES[type] ?? 'reserved' };
    m.sampleLocation = { value: location, name: GLUCOSE_SAMPLE_LOCATIONS[location] ?? 'reserved' };
  }
  if (flags & 0x08) m.sensorStatus = r.uint16('sensor status annunciation');
  return m;
}

export interface WeightMeasurement {
  characteristic: '2A9D';
  unit: 'SI' | 'imperial';
  /** kg (resolution 0.005) or lb (0.01); undefined when the scale says "measurement unsuccessful" (0xFFFF). */
  weight?: number;
  timestamp?: BleDateTime;
  userId?: number;
  /** kg/m2, resolution 0.1. */
  bmi?: number;
  /** m (resolution 0.001) or in (0.1). */
  height?: number;
}

export function decodeWeight(bytes: Buffer): WeightMeasurement {
  const r = new ByteReader(bytes, 'weight 0x2A9D');
  const flags = r.uint8('flags');
  const imperial = (flags & 0x01) !== 0;
  const raw = r.uint16('weight');
  const m: WeightMeasurement = { characteristic: '2A9D', unit: imperial ? 'imperial' : 'SI' };
  if (raw !== 0xffff) m.weight = imperial ? Number((raw * 0.01).toFixed(2)) : Number((raw * 0.005).toFixed(3));
  if (flags & 0x02) m.timestamp = r.dateTime('time stamp');
  if (flags & 0x04) m.userId = r.uint8('user id');
  if (flags & 0x08) {
    m.bmi = Number((r.uint16('BMI') * 0.1).toFixed(1));
    const height = r.uint16('height');
    m.height = imperial ? Number((height * 0.1).toFixed(1)) : Number((height * 0.001).toFixed(3));
  }
  return m;
}

export type HealthMeasurement = BloodPressureMeasurement | TemperatureMeasurement | PlxSpotCheck | PlxContinuous | GlucoseMeasurement | WeightMeasurement;

const DECODERS: Record<string, (bytes: Buffer) => HealthMeasurement> = {
  '2A35': decodeBloodPressure, '2A1C': decodeTemperature, '2A5E': decodePlxSpotCheck, '2A5F': decodePlxContinuous, '2A18': decodeGlucose, '2A9D': decodeWeight,
};

/** '2a35', '0x2A35' or the full 128-bit '00002a35-0000-1000-8000-00805f9b34fb' → '2A35'. */
export function shortUuid(uuid: string): string | undefined {
  const text = uuid.trim().toUpperCase();
  const full = /^0000([0-9A-F]{4})-0000-1000-8000-00805F9B34FB$/.exec(text);
  if (full) return full[1];
  const short = /^(?:0X)?([0-9A-F]{4})$/.exec(text);
  return short?.[1];
}

export function supportedCharacteristics(): string[] {
  return Object.keys(DECODERS);
}

/** Decodes one characteristic value; BleDecodeError for an unknown characteristic or bytes that do not fit. */
export function decodeCharacteristic(uuid: string, bytes: Buffer): HealthMeasurement {
  const id = shortUuid(uuid);
  const decoder = id ? DECODERS[id] : undefined;
  if (!decoder) throw new BleDecodeError(`characteristic ${uuid} is not one of ${supportedCharacteristics().map((c) => `0x${c}`).join(', ')}`);
  return decoder(bytes);
}
