/**
 * Is this a mailbox a mail server will take? The RFC 5321/5322 addr-spec in its usual form
 * (dot-atom local part, host name domain), no quoted local parts or address literals: MSSanté
 * addresses never use them. MSSanté domains are sub-domains of mssante.fr.
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const LOCAL_PART = new RegExp(`^${ATEXT}+(\\.${ATEXT}+)*$`);
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export type MailboxCheck = { ok: true; mssante: boolean } | { ok: false; reason: string };

export function checkMailbox(address: string): MailboxCheck {
  if (address.length > 254) return { ok: false, reason: 'longer than 254 characters' };
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return { ok: false, reason: 'not of the form local-part@domain' };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return { ok: false, reason: 'local part longer than 64 characters' };
  if (!LOCAL_PART.test(local)) return { ok: false, reason: 'local part has a character a mailbox cannot have, or a misplaced dot' };
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return { ok: false, reason: 'domain is not a host name (letters, digits, hyphens, at least two labels)' };
  if (!/^[A-Za-z]{2,}$/.test(labels[labels.length - 1])) return { ok: false, reason: 'domain does not end with a top-level domain' };
  return { ok: true, mssante: /(^|\.)mssante\.fr$/i.test(domain) };
}
