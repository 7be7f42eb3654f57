/**
 * From the link to results in one call: a received transfer's text (bytes in the device's
 * character set) → messages → canonical results. What a node does with every `message` event.
 */
import type { DeviceProfile } from '../profiles/profile';
import { detectProfile } from '../profiles';
import { type AstmMessage, decodeAstmText, parseMessages } from '../records/parser';
import { mapMessage, type MappedMessage, type MappingContext } from './map';

export interface MappedTransfer extends MappedMessage {
  messages: AstmMessage[];
}

/**
 * Throws AstmParseError when the text holds no readable header: the caller keeps the raw bytes.
 * With `detect`, each message is mapped with the shipped profile its header names (H.5, the
 * sender), `profile` serving when none matches: one input can then take several models.
 */
export function mapTransfer(text: Uint8Array | string, profile: DeviceProfile, context: MappingContext, detect = false): MappedTransfer {
  const messages = parseMessages(typeof text === 'string' ? text : decodeAstmText(text, profile.charset));
  const out: MappedTransfer = { messages, results: [], controls: [], skipped: [], warnings: [] };
  messages.forEach((message, index) => {
    const mapped = mapMessage(message, (detect && detectProfile(message)) || profile, context);
    const prefix = messages.length > 1 ? `message ${index + 1}: ` : '';
    out.results.push(...mapped.results);
    out.controls.push(...mapped.controls);
    out.skipped.push(...mapped.skipped.map((s) => ({ ...s, order: `${prefix}${s.order}` })));
    out.warnings.push(...mapped.warnings.map((w) => `${prefix}${w}`));
  });
  return out;
}
