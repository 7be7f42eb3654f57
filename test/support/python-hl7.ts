/**
 * python3-hl7 (Debian), a parser no one here wrote, reads what the hub sent. The script
 * decodes the bytes per MSH-18 and prints the fields the tests compare.
 */
import { execFileSync } from 'node:child_process';
import { DEBIAN_PYTHON } from './shared';

const SCRIPT = String.raw`
import hl7, json, sys
raw = sys.stdin.buffer.read()
charset = b'UTF-8' if b'UNICODE UTF-8' in raw.split(b'\r', 1)[0] else b'8859/1'
text = raw.decode('utf-8' if charset == b'UTF-8' else 'latin-1')
m = hl7.parse(text)
def f(seg, i):
    return str(seg[i]) if len(seg) > i else ''
pid = m.segment('PID')
out = {
  'type': str(m.segment('MSH')[9]), 'controlId': str(m.segment('MSH')[10]), 'charset': str(m.segment('MSH')[18]),
  'pid3': f(pid, 3), 'pid5': f(pid, 5), 'pid7': f(pid, 7), 'pid8': f(pid, 8),
  'obr': [ {'placer': f(s, 2), 'filler': f(s, 3), 'code': f(s, 4)} for s in m.segments('OBR') ],
  'obx': [ {'type': f(s, 2), 'code': f(s, 3), 'value': f(s, 5), 'unit': f(s, 6), 'range': f(s, 7), 'flags': f(s, 8), 'status': f(s, 11), 'time': f(s, 14), 'equipment': f(s, 18)} for s in m.segments('OBX') ],
}
print(json.dumps(out, ensure_ascii=False))
`;

export interface PythonOru {
  type: string;
  controlId: string;
  charset: string;
  pid3: string;
  pid5: string;
  pid7: string;
  pid8: string;
  obr: Array<{ placer: string; filler: string; code: string }>;
  obx: Array<{ type: string; code: string; value: string; unit: string; range: string; flags: string; status: string; time: string; equipment: string }>;
}

export function parseWithPythonHl7(bytes: Buffer): PythonOru {
  const out = execFileSync(DEBIAN_PYTHON, ['-c', SCRIPT], { input: bytes });
  return JSON.parse(out.toString('utf8')) as PythonOru;
}
