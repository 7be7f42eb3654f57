/**
 * The DICOM upper layer PDUs a C-STORE SCU needs (PS3.8 9.3), written and read by hand so that a
 * stored file can be sent straight from disk, its bytes unchanged and never whole in memory.
 */
import { APPLICATION_CONTEXT } from './uids';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './part10';

export const PDU = {
  ASSOCIATE_RQ: 0x01,
  ASSOCIATE_AC: 0x02,
  ASSOCIATE_RJ: 0x03,
  DATA_TF: 0x04,
  RELEASE_RQ: 0x05,
  RELEASE_RP: 0x06,
  ABORT: 0x07,
} as const;

/** What the hub can receive in one P-DATA-TF (the PACS's responses are small). */
export const OWN_MAX_PDU = 65_536;

function header(type: number, length: number): Buffer {
  const out = Buffer.alloc(6);
  out.writeUInt8(type, 0);
  out.writeUInt32BE(length, 2);
  return out;
}

function item(type: number, body: Buffer): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt8(type, 0);
  out.writeUInt16BE(body.length, 2);
  return Buffer.concat([out, body]);
}

const ascii = (text: string) => Buffer.from(text, 'latin1');

function aeTitle(title: string): Buffer {
  return ascii(title.padEnd(16, ' ').slice(0, 16));
}

export interface ProposedContext {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

export function associateRq(calledAe: string, callingAe: string, contexts: ProposedContext[]): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0); // protocol version
  aeTitle(calledAe).copy(fixed, 4);
  aeTitle(callingAe).copy(fixed, 20);
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(OWN_MAX_PDU, 0);
  const body = Buffer.concat([
    fixed,
    item(0x10, ascii(APPLICATION_CONTEXT)),
    ...contexts.map((c) => item(0x20, Buffer.concat([
      Buffer.from([c.id, 0, 0, 0]),
      item(0x30, ascii(c.abstractSyntax)),
      ...c.transferSyntaxes.map((ts) => item(0x40, ascii(ts))),
    ]))),
    item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, ascii(IMPLEMENTATION_CLASS_UID)), item(0x55, ascii(IMPLEMENTATION_VERSION))])),
  ]);
  return Buffer.concat([header(PDU.ASSOCIATE_RQ, body.length), body]);
}

export interface AcceptedContext {
  id: number;
  /** 0 accepted; 1 user rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported. */
  result: number;
  transferSyntax: string;
}

export interface AssociateAc {
  contexts: AcceptedContext[];
  /** 0: no limit. */
  maxPduLength: number;
}

/** Reads an A-ASSOCIATE-AC body (after the 6-byte PDU header). */
export function readAssociateAc(body: Buffer): AssociateAc {
  const contexts: AcceptedContext[] = [];
  let maxPduLength = 0;
  for (let offset = 68; offset + 4 <= body.length;) {
    const type = body.readUInt8(offset);
    const length = body.readUInt16BE(offset + 2);
    const value = body.subarray(offset + 4, offset + 4 + length);
    if (type === 0x21) {
      const sub = value.subarray(4);
      const transferSyntax = sub.length >= 4 ? sub.toString('latin1', 4, 4 + sub.readUInt16BE(2)).replace(/[\0 ]+$/, '') : '';
      contexts.push({ id: value.readUInt8(0), result: value.readUInt8(2), transferSyntax });
    } else if (type === 0x50) {
      for (let sub = 0; sub + 4 <= value.length;) {
        const subLength = value.readUInt16BE(sub + 2);
        if (value.readUInt8(sub) === 0x51 && subLength === 4) maxPduLength = value.readUInt32BE(sub + 4);
        sub += 4 + subLength;
      }
    }
    offset += 4 + length;
  }
  return { contexts, maxPduLength };
}

/** One PDV in its own P-DATA-TF PDU. */
export function pDataTf(contextId: number, command: boolean, last: boolean, value: Buffer): Buffer[] {
  const pdv = Buffer.alloc(6);
  pdv.writeUInt32BE(value.length + 2, 0);
  pdv.writeUInt8(contextId, 4);
  pdv.writeUInt8((command ? 1 : 0) | (last ? 2 : 0), 5);
  return [header(PDU.DATA_TF, value.length + 6), pdv, value];
}

export interface Pdv {
  contextId: number;
  command: boolean;
  last: boolean;
  value: Buffer;
}

export function readPDataTf(body: Buffer): Pdv[] {
  const pdvs: Pdv[] = [];
  for (let offset = 0; offset + 6 <= body.length;) {
    const length = body.readUInt32BE(offset);
    const control = body.readUInt8(offset + 5);
    pdvs.push({ contextId: body.readUInt8(offset + 4), command: (control & 1) === 1, last: (control & 2) === 2, value: body.subarray(offset + 6, offset + 4 + length) });
    offset += 4 + length;
  }
  return pdvs;
}

export function releaseRq(): Buffer {
  return Buffer.concat([header(PDU.RELEASE_RQ, 4), Buffer.alloc(4)]);
}

export function abortPdu(): Buffer {
  return Buffer.concat([header(PDU.ABORT, 4), Buffer.alloc(4)]);
}

/** Splits a byte stream into whole PDUs. */
export class PduReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  push(chunk: Buffer): Array<{ type: number; body: Buffer }> {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    const out: Array<{ type: number; body: Buffer }> = [];
    for (;;) {
      if (this.pendingLength < 6) break;
      const head = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      this.pending = [head];
      const length = head.readUInt32BE(2);
      if (head.length < 6 + length) break;
      out.push({ type: head.readUInt8(0), body: head.subarray(6, 6 + length) });
      const rest = head.subarray(6 + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingLength = rest.length;
    }
    return out;
  }
}

/** Command set elements (implicit VR little endian, group 0000), PS3.7 E.1. */
export function commandSet(elements: Array<[number, 'UI' | 'US' | 'AE', string | number]>): Buffer {
  const encoded = elements.map(([tag, vr, value]) => {
    let bytes: Buffer;
    if (vr === 'US') {
      bytes = Buffer.alloc(2);
      bytes.writeUInt16LE(value as number, 0);
    } else {
      bytes = ascii(String(value));
      if (bytes.length % 2 === 1) bytes = Buffer.concat([bytes, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
    }
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0x0000, 0);
    head.writeUInt16LE(tag, 2);
    head.writeUInt32LE(bytes.length, 4);
    return Buffer.concat([head, bytes]);
  });
  const body = Buffer.concat(encoded);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt32LE(0x00000000, 0);
  groupLength.writeUInt32LE(4, 4);
  groupLength.writeUInt32LE(body.length, 8);
  return Buffer.concat([groupLength, body]);
}

/** Reads a command set into element number → raw value. */
export function readCommandSet(bytes: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let offset = 0; offset + 8 <= bytes.length;) {
    const element = bytes.readUInt16LE(offset + 2);
    const length = bytes.readUInt32LE(offset + 4);
    out.set(element, bytes.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return out;
}
