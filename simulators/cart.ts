/**
 * A simulated telemedicine cart: teleconsultations of French patients whose vitals it publishes on
 * the hub's bus — as the cart contract (passerelle.vitals/1, .../cart/<cart>/vitals), as FHIR R4
 * Bundles (.../cart/<cart>/fhir), or as the raw characteristic bytes a BLE gateway relays
 * (passerelle.ble/1, .../ble/<gateway>/reading); with --photo, each teleconsultation's photo (or
 * PDF report) too: its passerelle.photo/1 companion, then its bytes, on .../cart/<cart>/photo.
 *
 *   npm run simulate -- cart --mqtt mqtt://127.0.0.1:1883 [--site demo-site --cart chariot-tlc-1]
 *                            [--count 3 --every 0] [--fhir] [--ble <gateway id>]
 *                            [--photo ear.jpg --device otoscope --region tympanic-membrane --laterality left]
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PhotoCompanion } from '../adapters/dicom/photo-contract';
import { BusClient } from '../adapters/bus';
import { bodySite, EUI64_SYSTEM, INS_OIDS, MDC_SYSTEM_URI, quantity, temperatureSite, ucumUnit, type CartMeasurement, type CartVitals } from '../adapters/vitals';

export interface CartSimulationOptions {
  mqtt: string;
  site: string;
  cart: string;
  count: number;
  everyMs: number;
  /** Publish FHIR Bundles instead of the cart contract. */
  fhir: boolean;
  /** Publish BLE gateway readings from this gateway instead. */
  bleGateway?: string;
  /** A JPEG (or PDF) to send with each teleconsultation, as the cart's photo (report). */
  photo?: string;
  photoDevice?: 'otoscope' | 'dermatoscope' | 'camera';
  region?: string;
  laterality?: 'left' | 'right';
  username?: string;
  password?: string;
}

const PATIENTS: Array<CartVitals['patient']> = [
  { ins: { value: '284037512345678', type: 'INS-NIR', qualified: true }, localId: { value: 'IPP00042187', authority: 'CSO-ANNECY' }, family: 'NOËL', given: ['Hélène', 'Françoise'], birthName: 'LEFÈVRE', birthDate: '1984-03-12', sex: 'F' },
  { ins: { value: '153117512345621', type: 'INS-NIR', qualified: true }, localId: { value: 'IPP00051932', authority: 'CSO-ANNECY' }, family: 'GÉRARD', given: ['Jérôme'], birthDate: '1953-11-02', sex: 'M' },
  { localId: { value: 'IPP00060417', authority: 'CSO-ANNECY' }, family: 'CŒUR', given: ['Anaïs', 'Maëlle'], birthDate: '2001-07-24', sex: 'F' },
];

const DEVICES = {
  cuff: { manufacturer: 'Omron', model: 'M7 Intelli IT', serial: '20231104567', eui64: '00091FFFFE123456' },
  oximeter: { manufacturer: 'Nonin', model: '3230', serial: '502144871', eui64: '001C05FFFEA1B2C3' },
  thermometer: { manufacturer: 'Braun', model: 'ThermoScan PRO 6000', serial: 'TS6-88214', eui64: 'A4C138FFFE0A7B21' },
  scale: { manufacturer: 'Seca', model: 'seca 285', serial: '5851234567', eui64: '0012A1FFFE003344' },
  glucometer: { manufacturer: 'Roche', model: 'Accu-Chek Guide', serial: '92418860', eui64: '587A62FFFE0B4020' },
};

/** The n-th teleconsultation: plausible values that vary with n, measured in the last minutes before `at`. */
export function simulatedVitals(n: number, cart: string, at = new Date()): CartVitals {
  const time = (minutesBefore: number) => isoWithOffset(new Date(at.getTime() - minutesBefore * 60_000));
  const k = n % 7;
  const m = (q: string, value: number, unit: string, minutesBefore: number, device?: object, bodySite?: string): CartMeasurement =>
    ({ quantity: q, value, unit, time: time(minutesBefore), ...(device ? { device } : {}), ...(bodySite ? { bodySite } : {}) });
  return {
    schema: 'passerelle.vitals/1',
    id: randomUUID(),
    cart: { id: cart, manufacturer: 'Passerelle', model: 'simulated cart', serial: `SIM-${cart}` },
    teleconsultation: { id: `TLC-SIM-${String(n + 1).padStart(5, '0')}`, room: 'Salle de téléconsultation 2', startedAt: time(10) },
    patient: PATIENTS[n % PATIENTS.length],
    operator: { id: 'IDE-017', name: 'Chloé Bœuf' },
    measurements: [
      m('nibp-systolic', 118 + 3 * k, 'mmHg', 6, DEVICES.cuff, 'left-arm'),
      m('nibp-diastolic', 74 + k, 'mmHg', 6, DEVICES.cuff, 'left-arm'),
      m('nibp-mean', 89 + 2 * k, 'mmHg', 6, DEVICES.cuff, 'left-arm'),
      m('pulse-rate-nibp', 68 + k, 'bpm', 6, DEVICES.cuff),
      m('spo2', 95 + (k % 4), '%', 5, DEVICES.oximeter, 'finger'),
      m('pulse-rate-oximeter', 67 + k, '/min', 5, DEVICES.oximeter),
      m('body-temperature', 36.6 + k / 10, '°C', 4, DEVICES.thermometer, 'tympanic'),
      m('body-weight', 61.5 + 2 * k, 'kg', 3, DEVICES.scale),
      m('capillary-glucose', 0.92 + k / 100, 'g/L', 2, DEVICES.glucometer, 'finger'),
    ],
  };
}

/** The same teleconsultation as a FHIR R4 Bundle of vital-signs Observations, with its Patient and Devices. */
export function toFhirBundle(v: CartVitals): Record<string, unknown> {
  const p = v.patient;
  const patient = {
    resourceType: 'Patient', id: 'patient',
    identifier: [
      ...(p.ins ? [{ system: `urn:oid:${INS_OIDS[p.ins.type]}`, value: p.ins.value }] : []),
      ...(p.localId ? [{ system: p.localId.authority, value: p.localId.value }] : []),
    ],
    name: [{ family: p.family, given: p.given }], birthDate: p.birthDate, gender: { F: 'female', M: 'male', O: 'other', U: 'unknown' }[p.sex ?? 'U'],
  };
  const devices = new Map<string, Record<string, unknown>>();
  const observations = v.measurements.map((m, i) => {
    const q = quantity(m.quantity!)!;
    const d = m.device;
    if (d?.eui64 && !devices.has(d.eui64)) {
      devices.set(d.eui64, { resourceType: 'Device', id: `device-${devices.size + 1}`, identifier: [{ system: EUI64_SYSTEM, value: d.eui64 }], manufacturer: d.manufacturer, modelNumber: d.model, serialNumber: d.serial });
    }
    const unit = ucumUnit(m.unit!)!;
    // A thermometer's site has its own MDC code (MDC_TEMP_TYMP); every site is a SNOMED CT body site.
    const named = typeof m.bodySite === 'string' ? m.bodySite : undefined;
    const thermometer = q.id === 'body-temperature' && named ? temperatureSite(named) : undefined;
    const mdc = thermometer?.mdc ?? q.mdc;
    const site = thermometer?.site ?? (named ? bodySite(named) : undefined);
    return {
      resourceType: 'Observation', id: `obs-${i + 1}`, status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: q.loinc.code, display: q.loinc.display }, { system: MDC_SYSTEM_URI, code: mdc.code, display: mdc.refId }] },
      ...(site ? { bodySite: { coding: [{ system: 'http://snomed.info/sct', code: site.code, display: site.display }] } } : {}),
      subject: { reference: 'Patient/patient' },
      encounter: { identifier: { value: v.teleconsultation.id } },
      effectiveDateTime: m.time,
      valueQuantity: { value: m.value, unit: m.unit, system: 'http://unitsofmeasure.org', code: unit },
      ...(d?.eui64 ? { device: { reference: `Device/${devices.get(d.eui64)!.id as string}` } } : {}),
    };
  });
  const resources = [patient, ...devices.values(), ...observations];
  return { resourceType: 'Bundle', id: v.id, type: 'collection', entry: resources.map((r) => ({ fullUrl: `urn:uuid:${v.id}-${String(r.id)}`, resource: r })) };
}

/** SFLOAT (IEEE 11073-20601): 4-bit exponent, 12-bit mantissa, little-endian. */
function sfloat(value: number, exponent: number): Buffer {
  const mantissa = Math.round(value / 10 ** exponent);
  const raw = ((exponent & 0x0f) << 12) | (mantissa & 0x0fff);
  const b = Buffer.alloc(2);
  b.writeUInt16LE(raw);
  return b;
}

/** The characteristic values a BLE gateway would relay for the n-th teleconsultation's cuff, oximeter and thermometer. */
export function simulatedBleReadings(v: CartVitals, receivedAt = new Date()): Array<Record<string, unknown>> {
  const value = (q: string) => v.measurements.find((m) => m.quantity === q)!.value!;
  const temperature = Buffer.alloc(5);
  temperature.writeUInt8(0x00, 0); // °C, no time stamp, no type
  temperature.writeInt32LE(((-1 & 0xff) << 24) | Math.round(value('body-temperature') * 10), 1);
  const readings: Array<[string, string, Buffer]> = [
    ['00:09:1F:12:34:56', '2A35', Buffer.concat([Buffer.from([0x04]), sfloat(value('nibp-systolic'), 0), sfloat(value('nibp-diastolic'), 0), sfloat(value('nibp-mean'), 0), sfloat(value('pulse-rate-nibp'), 0)])],
    ['00:1C:05:A1:B2:C3', '2A5E', Buffer.concat([Buffer.from([0x00]), sfloat(value('spo2'), 0), sfloat(value('pulse-rate-oximeter'), 0)])],
    ['A4:C1:38:0A:7B:21', '2A1C', temperature],
  ];
  return readings.map(([address, characteristic, bytes]) => ({
    schema: 'passerelle.ble/1', address, characteristic, value: bytes.toString('hex').toUpperCase(), receivedAt: isoWithOffset(receivedAt),
    teleconsultation: { id: v.teleconsultation.id, room: v.teleconsultation.room }, patient: v.patient,
  }));
}

/** The companion of a teleconsultation's photo (or report): its patient, its cart, the bytes' SHA-256. */
export function simulatedPhoto(v: CartVitals, bytes: Buffer, options: Pick<CartSimulationOptions, 'photoDevice' | 'region' | 'laterality'> = {}, at = new Date()): PhotoCompanion {
  const pdf = bytes.subarray(0, 5).toString('latin1') === '%PDF-';
  const kind = options.photoDevice ?? 'otoscope';
  const companion: PhotoCompanion = {
    schema: 'passerelle.photo/1',
    id: randomUUID(),
    contentType: pdf ? 'application/pdf' : 'image/jpeg',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    cart: v.cart,
    teleconsultation: v.teleconsultation,
    patient: v.patient,
    operator: v.operator,
    takenAt: isoWithOffset(at),
    device: pdf ? { kind: 'software', manufacturer: 'Passerelle', model: 'simulated cart' } : { kind, ...PHOTO_DEVICES[kind] },
  };
  if (!pdf) {
    companion.region = options.region ?? (kind === 'otoscope' ? 'tympanic-membrane' : kind === 'dermatoscope' ? 'skin-of-forearm' : 'skin');
    companion.laterality = options.laterality ?? (kind === 'camera' ? undefined : 'left');
  }
  if (companion.laterality === undefined) delete companion.laterality;
  return companion;
}

const PHOTO_DEVICES = {
  otoscope: { manufacturer: 'Firefly', model: 'DE500', serial: 'FF-DE500-118734' },
  dermatoscope: { manufacturer: 'HEINE', model: 'DELTAone', serial: 'HD1-20931' },
  camera: { manufacturer: 'Sony', model: 'DSC-RX0 II', serial: 'SY-55120' },
};

export interface PublishedVitals {
  topic: string;
  message: CartVitals;
  payload: Record<string, unknown> | Buffer;
}

/** Publishes `count` teleconsultations (QoS 1) and returns what it published. */
export async function runCart(options: CartSimulationOptions, log: (line: string) => void = () => undefined): Promise<PublishedVitals[]> {
  const client = await BusClient.connect({ url: options.mqtt, clientId: `passerelle-cart-sim-${options.cart}-${process.pid}`, username: options.username, password: options.password });
  const out: PublishedVitals[] = [];
  const photo = options.photo ? readFileSync(options.photo) : undefined;
  try {
    for (let n = 0; n < options.count; n++) {
      if (n > 0 && options.everyMs > 0) await new Promise((r) => setTimeout(r, options.everyMs));
      const message = simulatedVitals(n, options.cart);
      const root = `passerelle/v1/${options.site}`;
      const payloads: Array<[string, Record<string, unknown>]> = options.bleGateway
        ? simulatedBleReadings(message).map((r) => [`${root}/ble/${options.bleGateway}/reading`, r])
        : options.fhir
          ? [[`${root}/cart/${options.cart}/fhir`, toFhirBundle(message)]]
          : [[`${root}/cart/${options.cart}/vitals`, message as unknown as Record<string, unknown>]];
      for (const [topic, payload] of payloads) {
        await client.publish(topic, JSON.stringify(payload));
        out.push({ topic, message, payload });
        log(`published ${topic} (${message.teleconsultation.id}, ${message.measurements.length} measurements)`);
      }
      if (photo) {
        // The companion first, then the bytes, on one topic (either order would do: they pair by SHA-256).
        const topic = `${root}/cart/${options.cart}/photo`;
        const companion = simulatedPhoto(message, photo, options);
        await client.publish(topic, JSON.stringify(companion));
        await client.publish(topic, photo);
        out.push({ topic, message, payload: companion as unknown as Record<string, unknown> }, { topic, message, payload: photo });
        log(`published ${topic} (${message.teleconsultation.id}, ${companion.contentType}, ${photo.length} bytes)`);
      }
    }
  } finally {
    await client.close();
  }
  return out;
}

/** RFC 3339 in the machine's offset. */
function isoWithOffset(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
