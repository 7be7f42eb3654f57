/** A GP mail into a destination's outbound queue: one per document and mailbox, so the same report queued twice goes once. */
import type { Enqueued, Store } from '../../journal';
import type { GpMail } from './message';

export const GP_MAIL_CONTENT_TYPE = 'application/vnd.passerelle.gp-mail+json';

export function enqueueGpMail(store: Store, destination: string, mail: GpMail, inboundId?: string): Enqueued {
  return store.enqueue({
    destination,
    dedupeKey: `${mail.documentId}>${mail.to.toLowerCase()}`,
    resultId: mail.resultIds[0],
    ...(inboundId ? { inboundId } : {}),
    contentType: GP_MAIL_CONTENT_TYPE,
    build: () => Buffer.from(JSON.stringify(mail), 'utf8'),
  });
}
