/**
 * Acknowledgements (HL7 v2.5 chapter 2.9): original mode AA/AE/AR, enhanced mode CA/CE/CR.
 * MSA-2 carries the MSH-10 of the message acknowledged: that, never arrival order, ties an ACK
 * to its message.
 */
import { charsetFromDeclared } from './charset';
import { Hl7ParseError } from './errors';
import type { Hl7Field, Hl7Message } from './message';
import { DEFAULT_TIME_ZONE, formatDateTime } from './time';
import { components, message as er7Message, repetitions, segment, subcomponents, type Er7 } from './writer';

export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

const ACK_CODES: ReadonlySet<string> = new Set<AckCode>(['AA', 'AE', 'AR', 'CA', 'CE', 'CR']);

export interface AckOptions {
  /** Our application and facility (ACK MSH-3/4). */
  sendingApplication: string;
  sendingFacility: string;
  /** MSH-10 of the ACK itself. */
  controlId: string;
  /** MSA-3: why a message is refused. Never put patient data here. */
  text?: string;
  now?: Date;
  timeZone?: string;
}

export interface AckInfo {
  code: AckCode;
  /** MSA-2: the control ID of the message acknowledged. */
  controlId: string;
  /** MSA-3, or the ERR segment's text when MSA-3 is empty. */
  text?: string;
  /** The ACK as received, for the journal. */
  raw: Buffer;
}

/**
 * The ACK for a message, as text. Its MSH-5/6 are the message's MSH-3/4 (components kept), MSH-9
 * is ACK^<trigger>^ACK, MSH-11/12 echo the message's processing id and version, MSH-18 its
 * character set. `message` may be undefined when the bytes could not be parsed: the header is then
 * generic and MSA-2 empty (answer AR).
 */
export function buildAck(message: Hl7Message | undefined, code: AckCode, options: AckOptions): string {
  const msh = message?.segment('MSH');
  const trigger = msh?.get('9.2') || undefined;
  const declared = message?.declaredCharset ?? '';
  return er7Message([
    segment('MSH', [
      options.sendingApplication, options.sendingFacility,
      field(msh?.field(3)), field(msh?.field(4)),
      formatDateTime(options.now ?? new Date(), options.timeZone ?? DEFAULT_TIME_ZONE), undefined,
      components('ACK', trigger, trigger ? 'ACK' : undefined), options.controlId,
      field(msh?.field(11)) ?? 'P', message?.version || '2.5',
      undefined, undefined, undefined, undefined, undefined,
      charsetFromDeclared(declared) ? declared : undefined,
    ]),
    segment('MSA', [code, message?.controlId, options.text]),
  ]);
}

/** Reads an ACK. Throws Hl7ParseError when it has no MSA or MSA-1 is not an acknowledgment code. */
export function readAck(message: Hl7Message, raw: Buffer): AckInfo {
  const msa = message.segment('MSA');
  if (!msa) throw new Hl7ParseError(`message ${message.controlId}: no MSA segment, not an acknowledgement`);
  const code = (msa.get('1.1') ?? '').trim();
  if (!ACK_CODES.has(code)) {
    throw new Hl7ParseError(`segment ${msa.position} (MSA): MSA-1 ${/^[A-Z]{2}$/.test(code) ? `'${code}' ` : ''}is not an acknowledgment code`);
  }
  const err = message.segment('ERR');
  const text = msa.get('3') || err?.get('8') || err?.get('3.2') || undefined;
  return { code: code as AckCode, controlId: msa.get('2.1') ?? '', ...(text ? { text } : {}), raw };
}

/** A decoded field written back with our delimiters (an HD such as APP^1.2.3^ISO keeps its parts). */
function field(value: Hl7Field | undefined): Er7 | undefined {
  if (!value) return undefined;
  const written = repetitions(value.map((rep) => components(...rep.map((comp) => subcomponents(...comp)))));
  return written.text === '' ? undefined : written;
}
