/** "AET@host:port", as PACS_DICOM and the to-pacs dialog give it → its parts, or a clear error. */
import { parseEndpoint } from '../common/endpoint';
import type { PacsEndpoint } from './store-scu';

/** AE titles: 1 to 16 characters of the default repertoire, no backslash or control characters (PS3.5 6.2). */
export const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

export function parsePacsEndpoint(value: string | undefined): PacsEndpoint {
  const text = (value ?? '').trim();
  const at = text.indexOf('@');
  if (at < 1) throw new Error(`"${text}" is not AET@host:port`);
  const aeTitle = text.slice(0, at).trim();
  if (!AE_TITLE.test(aeTitle)) throw new Error(`"${aeTitle}" is not an AE title (1 to 16 characters, no backslash)`);
  return { aeTitle, ...parseEndpoint(text.slice(at + 1)) };
}
