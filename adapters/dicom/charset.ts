/**
 * Text of a DICOM object decoded per its Specific Character Set (0008,0005), PS3.3 C.12.1.1.2.
 * dicom-parser reads strings one byte per character; names with accents need the declared
 * repertoire: ISO_IR 100 (Latin-1, common in France) or ISO_IR 192 (UTF-8) above all.
 * Code extensions (ISO 2022 escape sequences) are not interpreted: the first value is used.
 */

/** Defined terms → a decoder (the WHATWG labels Node's TextDecoder knows). */
const DECODERS: Partial<Record<string, (bytes: Buffer) => string>> = {
  '': (b) => b.toString('latin1'),
  ISO_IR_6: (b) => b.toString('latin1'),
  ISO_IR_100: (b) => b.toString('latin1'),
  ISO_IR_192: (b) => b.toString('utf8'),
  ISO_IR_101: whatwg('iso-8859-2'),
  ISO_IR_109: whatwg('iso-8859-3'),
  ISO_IR_110: whatwg('iso-8859-4'),
  ISO_IR_144: whatwg('iso-8859-5'),
  ISO_IR_127: whatwg('iso-8859-6'),
  ISO_IR_126: whatwg('iso-8859-7'),
  ISO_IR_138: whatwg('iso-8859-8'),
  ISO_IR_148: whatwg('iso-8859-9'),
  ISO_IR_203: whatwg('iso-8859-15'),
  ISO_IR_166: whatwg('windows-874'),
  GB18030: whatwg('gb18030'),
  GBK: whatwg('gbk'),
};

function whatwg(label: string): (bytes: Buffer) => string {
  const decoder = new TextDecoder(label);
  return (bytes) => decoder.decode(bytes);
}

/** 'ISO_IR 100', the ISO 2022 form 'ISO 2022 IR 100' and the non-standard 'ISO-IR 100' all name one repertoire. */
function normalise(term: string): string {
  return term.trim().toUpperCase().replace(/^ISO[ _-]?2022[ _-]?/, 'ISO_').replace(/^ISO[ _-]IR[ _-]?/, 'ISO_IR_');
}

export interface TextDecoding {
  decode(bytes: Buffer): string;
  /** False when the declared set is unknown here: text was read as Latin-1. */
  known: boolean;
}

export function decoderFor(specificCharacterSet: string | undefined): TextDecoding {
  const first = (specificCharacterSet ?? '').split('\\').map((v) => v.trim()).find((v) => v !== '') ?? '';
  const term = normalise(first);
  const decode = DECODERS[term];
  return decode ? { decode, known: true } : { decode: (b) => b.toString('latin1'), known: false };
}
