/**
 * OPC UA values as plain data (what is journaled and mapped), and as the canonical result types
 * them. A value is never changed, only typed: a Double is NM, a text goes through the same
 * typing as an analyser's (`<5` is SN), a Bad status keeps no value (status X, the reason said),
 * an Uncertain one keeps its value as preliminary.
 */
import { DataType, type DataValue, type Variant } from 'node-opcua';
import { typeValue } from '../astm/mapping/values';
import type { ObservationStatus, ObservationValue } from '../model';

/** A JSON value: what a variable's value becomes in the journal. */
export type PlainValue = null | boolean | number | string | PlainValue[] | { [key: string]: PlainValue };

/** One variable's value as read: plain value, its OPC UA type, status and timestamps. */
export interface PlainDataValue {
  value: PlainValue;
  dataType: string;
  /** The status code's name (Good, BadSensorFailure, UncertainLastUsableValue...) and number. */
  status: string;
  statusCode: number;
  sourceTimestamp?: string;
  serverTimestamp?: string;
}

const INT64 = new Set([DataType.Int64, DataType.UInt64]);

/** One scalar of a variant as JSON: dates as ISO text, texts and names as their text, 64-bit integers as numbers when exact. */
export function plainScalar(value: unknown, dataType: DataType): PlainValue {
  if (value === null || value === undefined) return null;
  if (INT64.has(dataType) && Array.isArray(value) && value.length === 2) {
    const [high, low] = value as [number, number];
    const n = high * 2 ** 32 + low;
    return Number.isSafeInteger(n) ? n : `${high}:${low}`;
  }
  // JSON has no NaN or Infinity: kept as their text rather than turned into null.
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : String(value); // + 0: JSON has no -0
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>).map((n) => plainScalar(n, dataType));
  if (Array.isArray(value)) return value.map((v) => plainScalar(v, dataType));
  const o = value as { text?: unknown; name?: unknown; toString(): string; toJSON?: () => unknown };
  if (dataType === DataType.LocalizedText) return typeof o.text === 'string' ? o.text : null;
  if (dataType === DataType.QualifiedName) return typeof o.name === 'string' ? o.name : null;
  if (dataType === DataType.NodeId || dataType === DataType.ExpandedNodeId || dataType === DataType.StatusCode || dataType === DataType.Guid) return o.toString();
  const json = typeof o.toJSON === 'function' ? o.toJSON() : value;
  return JSON.parse(JSON.stringify(json ?? null)) as PlainValue;
}

export function plainVariant(variant: Variant | undefined): { value: PlainValue; dataType: string } {
  if (!variant || variant.dataType === DataType.Null) return { value: null, dataType: 'Null' };
  const value = variant.arrayType !== undefined && variant.arrayType !== 0 && variant.value
    ? Array.from(variant.value as ArrayLike<unknown>).map((v) => plainScalar(v, variant.dataType) as PlainValue)
    : plainScalar(variant.value, variant.dataType);
  return { value, dataType: DataType[variant.dataType] ?? String(variant.dataType) };
}

export function plainDataValue(dataValue: DataValue): PlainDataValue {
  const { value, dataType } = plainVariant(dataValue.value);
  return {
    value,
    dataType,
    status: dataValue.statusCode.name,
    statusCode: dataValue.statusCode.value,
    ...(dataValue.sourceTimestamp ? { sourceTimestamp: dataValue.sourceTimestamp.toISOString() } : {}),
    ...(dataValue.serverTimestamp ? { serverTimestamp: dataValue.serverTimestamp.toISOString() } : {}),
  };
}

/** A status code name's severity, from its name as node-opcua gives it (Good…, Uncertain…, Bad…). */
export function severity(status: string): 'good' | 'uncertain' | 'bad' {
  if (status.startsWith('Good')) return 'good';
  if (status.startsWith('Uncertain')) return 'uncertain';
  return 'bad';
}

export interface TypedObservationValue {
  valueType: 'NM' | 'SN' | 'ST' | 'TX';
  value?: ObservationValue;
  status: ObservationStatus;
  comment?: string;
}

/** HL7 ST holds up to 199 characters; longer text is TX. */
const ST_MAX = 199;

/** A variable's value as the canonical result types it (see the file comment). */
export function typeObservationValue(data: PlainDataValue, decimalComma = false): TypedObservationValue {
  const level = severity(data.status);
  if (level === 'bad') return { valueType: 'ST', status: 'X', comment: `OPC UA status ${data.status}: no value` };
  const status: ObservationStatus = level === 'uncertain' ? 'P' : 'F';
  const said = level === 'uncertain' ? `OPC UA status ${data.status}: the value is uncertain` : undefined;
  const withComment = (typed: Omit<TypedObservationValue, 'status' | 'comment'>, note?: string): TypedObservationValue => {
    const comment = [said, note].filter((c) => c !== undefined).join('; ');
    return { ...typed, status, ...(comment ? { comment } : {}) };
  };
  const { value } = data;
  if (value === null) return { valueType: 'ST', status: 'X', comment: [said, 'no value'].filter(Boolean).join('; ') };
  if (typeof value === 'number') {
    return Number.isFinite(value) ? withComment({ valueType: 'NM', value }) : withComment({ valueType: 'ST', value: String(value) }, 'not a finite number');
  }
  if (typeof value === 'string') {
    const typed = typeValue(value, decimalComma);
    return typed.value === undefined ? { valueType: 'ST', status: 'X', comment: [said, 'empty text'].filter(Boolean).join('; ') } : withComment(typed);
  }
  if (typeof value === 'boolean') return withComment({ valueType: 'ST', value: value ? 'true' : 'false' });
  const text = JSON.stringify(value);
  return withComment({ valueType: text.length > ST_MAX ? 'TX' : 'ST', value: text }, `OPC UA ${data.dataType} written as JSON`);
}
