/**
 * Bluetooth LE health devices: decoders for the standard GATT health characteristics and the
 * IEEE 11073-20601 SFLOAT/FLOAT formats they use. Plain TypeScript, no radio: the bytes come from
 * a BLE gateway (see docs/vitals.md for its MQTT contract).
 */
export { BleDecodeError, ByteReader, decodeSfloat, decodeFloat, type MedFloat, type BleDateTime } from './reader';
export * from './characteristics';
