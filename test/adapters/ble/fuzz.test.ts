/** Random bytes into every decoder and the gateway contract: a value or a clear error, never a crash. */
import { expect } from 'chai';
import fc from 'fast-check';
import { BleDecodeError, decodeCharacteristic, decodeFloat, supportedCharacteristics } from '../../../adapters/ble';
import { validateResult } from '../../../adapters/model';
import { bleToResult, InvalidVitalsError, parseBleReading } from '../../../adapters/vitals';

const RUNS_PER_CHARACTERISTIC = 5000;

describe('BLE decoders under random bytes', () => {
  for (const characteristic of supportedCharacteristics()) {
    it(`0x${characteristic}: ${RUNS_PER_CHARACTERISTIC} random values decode or throw BleDecodeError`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeCharacteristic(characteristic, Buffer.from(bytes));
        } catch (err) {
          if (!(err instanceof BleDecodeError)) throw err;
          expect(err.message).to.match(/^(blood pressure|temperature|PLX|glucose|weight)/);
        }
      }), { numRuns: RUNS_PER_CHARACTERISTIC });
    });
  }

  it('FLOAT: 20,000 random 32-bit values give a finite number or a special value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (raw) => {
      const f = decodeFloat(raw);
      return 'special' in f || Number.isFinite(f.value);
    }), { numRuns: 20_000 });
  });

  it('the gateway contract: 5,000 random readings give a valid canonical result or an InvalidVitalsError', () => {
    const reading = fc.record({
      schema: fc.constantFrom('passerelle.ble/1', 'passerelle.ble/2'),
      address: fc.constantFrom('00:1C:05:A1:B2:C3', 'zz', '00:1C:05:A1:B2'),
      characteristic: fc.constantFrom(...supportedCharacteristics(), '2A37', 'nonsense'),
      value: fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b).toString('hex')),
      receivedAt: fc.constantFrom('2026-11-23T10:00:00+01:00', '2026-11-23T10:00:00', undefined),
    });
    fc.assert(fc.property(reading, (r) => {
      try {
        const { reading: parsed, bytes } = parseBleReading(JSON.stringify(r));
        const { result } = bleToResult(parsed, bytes, { site: 's', deviceId: 'gw', receivedAt: new Date('2026-11-23T09:30:00Z'), rawSha256: 'f'.repeat(64), timeZone: 'Europe/Paris' });
        validateResult(result);
      } catch (err) {
        if (!(err instanceof InvalidVitalsError)) throw err;
      }
    }), { numRuns: 5000 });
  });
});
