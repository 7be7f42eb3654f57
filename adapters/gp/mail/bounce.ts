/**
 * A bounce turned into a delivery failure of the outbound message it is about: the control id
 * comes from the returned message's Message-ID (messageIdFor), else from the ENVID we asked the
 * server to carry. The message becomes a dead letter (re-sendable through the hub's API), and
 * the delivery event says why, as the worker's own events do.
 */
import type { DeliveryEvent } from '../../delivery';
import type { Store } from '../../journal';
import { permanentFailures, readDsn, type DeliveryStatusNotification } from './dsn';
import { controlIdOfMessageId } from './message';

export type BounceOutcome =
  | { applied: true; event: DeliveryEvent; dsn: DeliveryStatusNotification }
  | { applied: false; reason: string; dsn?: DeliveryStatusNotification };

/** Reads the DSN (GpReadError when it is not one) and fails the message of `destination` it names. */
export function applyBounce(store: Store, destination: string, mail: Buffer, now = Date.now()): BounceOutcome {
  const dsn = readDsn(mail);
  const failures = permanentFailures(dsn);
  if (failures.length === 0) return { applied: false, reason: `no permanent failure in the report (${dsn.recipients.map((r) => `${r.action} ${r.status}`).join(', ')})`, dsn };
  const controlId = (dsn.originalMessageId && controlIdOfMessageId(dsn.originalMessageId)) || dsn.originalEnvelopeId;
  const message = controlId ? store.findByControlId(controlId) : undefined;
  if (!message || message.destination !== destination) return { applied: false, reason: 'the report names no message this node sent', dsn };
  if (message.state === 'dead') return { applied: false, reason: `queue #${message.id} is already a dead letter`, dsn };
  const failure = failures[0];
  const reason = `bounced: ${failure.status}${failure.diagnosticCode ? ` (${failure.diagnosticCode})` : ''}`;
  store.markBounced(message.id, reason, now);
  const event: DeliveryEvent = { destination, outboundId: message.id, controlId: message.controlId, state: 'dead', reason, attempts: message.attempts, at: now };
  if (message.resultId !== undefined) event.resultId = message.resultId;
  return { applied: true, event, dsn };
}
