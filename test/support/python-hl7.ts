/**
 * python3-hl7 (Debian), a parser no one here wrote, reads bytes we produced. The script picks
 * the decoding from MSH-18 itself (or takes the one forced by the test) and dumps every field as
 * repetitions → components → subcomponents, leaves unescaped by python-hl7.
 */
import { execFileSync } from 'node:child_process';
import { DEBIAN_PYTHON } from './shared';

const SCRIPT = String.raw`
import hl7, json, sys
raw = sys.stdin.buffer.read()
forced = sys.argv[1] if len(sys.argv) > 1 else ''
header = raw.split(b'\r', 1)[0]
declared = header.split(b'|')[17].split(b'^')[0].decode('ascii') if header.count(b'|') >= 17 else ''
encoding = forced or {'UNICODE UTF-8': 'utf-8', '8859/1': 'latin-1'}.get(declared.strip(), 'utf-8')
text = raw.decode(encoding).replace('\r\n', '\r').replace('\n', '\r')
m = hl7.parse(text)
def tree(x, level):
    if isinstance(x, str) or not isinstance(x, list):
        v = m.unescape(str(x))
        for _ in range(3 - level):
            v = [v]
        return v
    return [tree(c, level + 1) for c in x]
out = []
for seg in m:
    name = str(seg[0])
    fields = [None]
    for i in range(1, len(seg)):
        if name == 'MSH' and i <= 2:
            fields.append([[[str(seg[i])]]])
        else:
            fields.append(tree(seg[i], 0))
    out.append({'name': name, 'fields': fields})
print(json.dumps({'encoding': encoding, 'declared': declared, 'segments': out}, ensure_ascii=False))
`;

export type PyField = string[][][];

export interface PyMessage {
  encoding: string;
  declared: string;
  segments: Array<{ name: string; fields: Array<PyField | null> }>;
}

export function parseWithPython(bytes: Buffer, forcedEncoding?: 'utf-8' | 'latin-1'): PyMessage {
  const out = execFileSync(DEBIAN_PYTHON, ['-c', SCRIPT, ...(forcedEncoding ? [forcedEncoding] : [])], { input: bytes });
  return JSON.parse(out.toString('utf8')) as PyMessage;
}

/** Field n of the k-th segment with this name (1-based), as python-hl7 read it. */
export function pyField(message: PyMessage, segment: string, field: number, occurrence = 1): PyField | undefined {
  const seg = message.segments.filter((s) => s.name === segment)[occurrence - 1];
  return seg?.fields[field] ?? undefined;
}

/** Components of one repetition, each its first subcomponent; convenient for simple fields. */
export function pyComponents(message: PyMessage, segment: string, field: number, occurrence = 1, repetition = 1): string[] | undefined {
  return pyField(message, segment, field, occurrence)?.[repetition - 1]?.map((c) => c[0]);
}
