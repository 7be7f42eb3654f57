/**
 * Vitals from telemedicine carts and device gateways: the cart contract (passerelle.vitals/1),
 * FHIR R4 vital signs, IHE PCD-01 from gateways and BLE readings, all → canonical vitals; the
 * coding table (MDC, LOINC, UCUM) as data, unit conversions and physiological bounds. Plain
 * TypeScript, no Node-RED. See docs/vitals.md.
 */
export * from './coding';
export { toObservation, resolveQuantity, CONTRACT_SYSTEM, type MeasurementInput } from './measurement';
export { parseCartVitals, InvalidVitalsError, VITALS_SCHEMA, FUTURE_TOLERANCE_MS, type CartVitals, type CartMeasurement } from './contract';
export { cartToResult } from './cart';
export { fhirToResult, EUI64_SYSTEM } from './fhir';
export { pcd01Coding, pcd01ToResult, type Pcd01Context } from './pcd01';
export { bleToResult, parseBleReading, BLE_SCHEMA, type BleReading } from './ble';
export { vitalsResult, unmatchedPatient, INS_OIDS, VITAL_SIGNS_PANEL, type VitalsContext } from './result';
export { normaliseEui64, eui64FromMac48 } from './eui64';
