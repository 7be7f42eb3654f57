/**
 * GATT health characteristics decoded from byte vectors worked out by hand from the Bluetooth SIG
 * GATT Specification Supplement (field order and flags) and IEEE 11073-20601 (SFLOAT, FLOAT).
 * Each vector shows its working: the flags, then every field, little-endian.
 */
import { expect } from 'chai';
import {
  BleDecodeError, decodeBloodPressure, decodeCharacteristic, decodeFloat, decodeGlucose, decodePlxContinuous, decodePlxSpotCheck,
  decodeSfloat, decodeTemperature, decodeWeight, shortUuid,
} from '../../../adapters/ble';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
// 2026-11-23 10:08:12 as a GATT Date Time: year 2026 = 0x07EA → EA 07, month 11 → 0B, day 23 → 17, 10 → 0A, 8 → 08, 12 → 0C.
const STAMP = 'EA07 0B 17 0A 08 0C';
const STAMP_FIELDS = { year: 2026, month: 11, day: 23, hours: 10, minutes: 8, seconds: 12 };

describe('IEEE 11073-20601 numbers', () => {
  it('SFLOAT: exponent in the high nibble, 12-bit mantissa, both signed', () => {
    expect(decodeSfloat(0x0078)).to.deep.equal({ value: 120 }); // exponent 0, mantissa 0x078 = 120
    expect(decodeSfloat(0xf3a5)).to.deep.equal({ value: 93.3 }); // exponent 0xF = -1, mantissa 0x3A5 = 933
    expect(decodeSfloat(0xb05f)).to.deep.equal({ value: 0.00095 }); // exponent 0xB = -5, mantissa 95
    expect(decodeSfloat(0x0fff)).to.deep.equal({ value: -1 }); // mantissa 0xFFF = -1 in 12 bits
    expect(decodeSfloat(0x1001)).to.deep.equal({ value: 10 }); // exponent 1, mantissa 1
  });

  it('SFLOAT special values are recognised before any scaling', () => {
    expect(decodeSfloat(0x07ff)).to.deep.equal({ special: 'NaN' });
    expect(decodeSfloat(0x0800)).to.deep.equal({ special: 'NRes' });
    expect(decodeSfloat(0x07fe)).to.deep.equal({ special: '+INFINITY' });
    expect(decodeSfloat(0x0802)).to.deep.equal({ special: '-INFINITY' });
    expect(decodeSfloat(0x0801)).to.deep.equal({ special: 'reserved' });
  });

  it('every one of the 65,536 SFLOAT values decodes to a finite number or a special value', () => {
    let specials = 0;
    for (let raw = 0; raw <= 0xffff; raw++) {
      const f = decodeSfloat(raw);
      if ('special' in f) specials += 1;
      else expect(Number.isFinite(f.value), `0x${raw.toString(16)}`).to.equal(true);
    }
    expect(specials).to.equal(5);
  });

  it('FLOAT: 8-bit exponent, 24-bit mantissa, and its special values', () => {
    expect(decodeFloat(0xff00016e)).to.deep.equal({ value: 36.6 }); // exponent -1, mantissa 0x00016E = 366
    expect(decodeFloat(0xfe000e4a)).to.deep.equal({ value: 36.58 }); // exponent -2, mantissa 3658
    expect(decodeFloat(0x00ffffff)).to.deep.equal({ value: -1 }); // mantissa -1 in 24 bits
    expect(decodeFloat(0x007fffff)).to.deep.equal({ special: 'NaN' });
    expect(decodeFloat(0x00800000)).to.deep.equal({ special: 'NRes' });
    expect(decodeFloat(0x007ffffe)).to.deep.equal({ special: '+INFINITY' });
    expect(decodeFloat(0x00800002)).to.deep.equal({ special: '-INFINITY' });
    expect(decodeFloat(0x00800001)).to.deep.equal({ special: 'reserved' });
  });
});

describe('GATT health characteristics', () => {
  it('blood pressure 0x2A35 with every optional field', () => {
    // flags 0x1E: mmHg (bit0 = 0), time stamp (bit1), pulse rate (bit2), user id (bit3), status (bit4)
    // systolic 120 → 0x0078 → 78 00; diastolic 80 → 0x0050 → 50 00; MAP 93.3 → exp -1, 933 → 0xF3A5 → A5 F3
    // pulse 72 → 48 00; user 1 → 01; status 0x000C: irregular pulse (bit2) + pulse range "above" (bits 3-4 = 01)
    const m = decodeBloodPressure(hex(`1E 7800 5000 A5F3 ${STAMP} 4800 01 0C00`));
    expect(m).to.deep.equal({
      characteristic: '2A35', unit: 'mmHg', systolic: { value: 120 }, diastolic: { value: 80 }, meanArterialPressure: { value: 93.3 },
      timestamp: STAMP_FIELDS, pulseRate: { value: 72 }, userId: 1,
      status: { bodyMovement: false, cuffTooLoose: false, irregularPulse: true, pulseRateRange: 'above', improperPosition: false },
    });
  });

  it('blood pressure in kPa, no optional field', () => {
    // flags 0x01 (kPa); 16.0 → exp -1, 160 = 0x0A0 → 0xF0A0 → A0 F0; 10.7 → 107 = 0x06B → 6B F0; 12.4 → 124 → 7C F0
    const m = decodeBloodPressure(hex('01 A0F0 6BF0 7CF0'));
    expect(m).to.deep.include({ unit: 'kPa', systolic: { value: 16 }, diastolic: { value: 10.7 }, meanArterialPressure: { value: 12.4 } });
    expect(m.timestamp).to.equal(undefined);
  });

  it('temperature 0x2A1C: a 32-bit FLOAT, time stamp and type', () => {
    // flags 0x06: °C, time stamp, type; 36.6 → exp -1 (0xFF), mantissa 366 (0x00016E) → 0xFF00016E → 6E 01 00 FF; type 9 (tympanum)
    expect(decodeTemperature(hex(`06 6E0100FF ${STAMP} 09`))).to.deep.equal({
      characteristic: '2A1C', unit: 'Cel', temperature: { value: 36.6 }, timestamp: STAMP_FIELDS, type: { value: 9, name: 'tympanum' },
    });
    // flags 0x01: °F; 98.6 → mantissa 986 (0x0003DA), exp -1 → DA 03 00 FF
    expect(decodeTemperature(hex('01 DA0300FF'))).to.deep.equal({ characteristic: '2A1C', unit: '[degF]', temperature: { value: 98.6 } });
    // NaN (0x007FFFFF → FF FF 7F 00): the thermometer had no reading
    expect(decodeTemperature(hex('00 FFFF7F00')).temperature).to.deep.equal({ special: 'NaN' });
  });

  it('PLX spot-check 0x2A5E with time stamp and measurement status', () => {
    // flags 0x03: time stamp, measurement status; SpO2 97 → 61 00; PR 72 → 48 00; status 0x4000 = questionable (bit 14)
    expect(decodePlxSpotCheck(hex(`03 6100 4800 ${STAMP} 0040`))).to.deep.equal({
      characteristic: '2A5E', spo2: { value: 97 }, pulseRate: { value: 72 }, timestamp: STAMP_FIELDS,
      measurementStatus: ['questionable measurement detected'], deviceClockNotSet: false,
    });
    // flags 0x10: device clock not set (bit4), nothing optional; SpO2 NaN (0x07FF → FF 07), PR NRes (0x0800 → 00 08)
    expect(decodePlxSpotCheck(hex('10 FF07 0008'))).to.deep.equal({
      characteristic: '2A5E', spo2: { special: 'NaN' }, pulseRate: { special: 'NRes' }, deviceClockNotSet: true,
    });
  });

  it('PLX continuous 0x2A5F with the fast pair and device status', () => {
    // flags 0x09: fast pair (bit0), device and sensor status (bit3); normal 96 / 70; fast 95 / 71; status uint24 0x000020 = low perfusion
    expect(decodePlxContinuous(hex('09 6000 4600 5F00 4700 200000'))).to.deep.equal({
      characteristic: '2A5F', spo2: { value: 96 }, pulseRate: { value: 70 }, fast: { spo2: { value: 95 }, pulseRate: { value: 71 } },
      deviceStatus: ['low perfusion detected'],
    });
  });

  it('glucose 0x2A18 in kg/L, with time offset, type and sample location', () => {
    // flags 0x03: time offset, concentration + type/location, kg/L (bit2 = 0); sequence 1 → 01 00
    // base time 2026-11-23 10:00:00 → EA 07 0B 17 0A 00 00; offset +12 min → 0C 00
    // 95 mg/dL = 0.00095 kg/L → exp -5 (0xB), mantissa 95 (0x05F) → 0xB05F → 5F B0; type 1 (capillary whole blood), location 1 (finger) → 0x11
    expect(decodeGlucose(hex('03 0100 EA070B170A0000 0C00 5FB0 11'))).to.deep.equal({
      characteristic: '2A18', sequenceNumber: 1, baseTime: { year: 2026, month: 11, day: 23, hours: 10, minutes: 0, seconds: 0 },
      timeOffsetMinutes: 12, concentration: { value: { value: 0.00095 }, unit: 'kg/L' },
      type: { value: 1, name: 'capillary whole blood' }, sampleLocation: { value: 1, name: 'finger' }, contextFollows: false,
    });
    // flags 0x06: mol/L; 5.3 mmol/L = 0.0053 mol/L → exp -4 (0xC), mantissa 53 (0x035) → 35 C0; control solution (type 10, location 4) → 0x4A
    const control = decodeGlucose(hex('06 0200 EA070B170A0000 35C0 4A'));
    expect(control.concentration).to.deep.equal({ value: { value: 0.0053 }, unit: 'mol/L' });
    expect(control.type?.name).to.equal('control solution');
    expect(control.sampleLocation?.name).to.equal('control solution');
  });

  it('weight 0x2A9D: SI with BMI and height, imperial, and "measurement unsuccessful"', () => {
    // flags 0x0A: SI, time stamp, BMI and height; 71.4 kg / 0.005 = 14280 = 0x37C8 → C8 37; BMI 26.5 → 265 → 09 01; 1.640 m / 0.001 = 1640 → 68 06
    expect(decodeWeight(hex(`0A C837 ${STAMP} 0901 6806`))).to.deep.equal({
      characteristic: '2A9D', unit: 'SI', weight: 71.4, timestamp: STAMP_FIELDS, bmi: 26.5, height: 1.64,
    });
    // flags 0x01: imperial; 157.4 lb / 0.01 = 15740 = 0x3D7C → 7C 3D
    expect(decodeWeight(hex('01 7C3D'))).to.deep.equal({ characteristic: '2A9D', unit: 'imperial', weight: 157.4 });
    expect(decodeWeight(hex('00 FFFF'))).to.deep.equal({ characteristic: '2A9D', unit: 'SI' });
  });

  it('names the characteristic, the field and the offset of a value too short', () => {
    expect(() => decodeBloodPressure(hex('1E 7800 5000'))).to.throw(BleDecodeError, 'blood pressure 0x2A35: mean arterial pressure needs 2 byte(s) at offset 5, the value has 5');
    expect(() => decodeTemperature(Buffer.alloc(0))).to.throw(BleDecodeError, /empty value/);
    expect(() => decodeTemperature(hex('02 6E0100FF EA07 0D 17 0A 08 0C'))).to.throw(BleDecodeError, /time stamp 2026-13-23/);
  });

  it('finds the decoder by 16-bit or 128-bit UUID, and refuses others', () => {
    expect(shortUuid('00002a35-0000-1000-8000-00805f9b34fb')).to.equal('2A35');
    expect(shortUuid('0x2a1c')).to.equal('2A1C');
    expect(decodeCharacteristic('2a5e', hex('00 6100 4800')).characteristic).to.equal('2A5E');
    expect(() => decodeCharacteristic('2A37', hex('00 48'))).to.throw(BleDecodeError, /characteristic 2A37 is not one of 0x2A35, 0x2A1C/);
  });
});
