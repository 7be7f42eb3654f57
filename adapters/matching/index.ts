/**
 * Patient matching: a result that reaches the hub without a patient (most analysers send only a
 * specimen id) finds its patient through the order the record sent for that specimen. A result
 * with neither is never sent under a guessed identity: it stays unmatched until assigned.
 */
import { uuidUid } from '../dicom/uids';
import { extractImagingOrders, extractOrders, type Hl7Message, type ImagingOrder, type OrderExtractOptions } from '../hl7';
import type { IndexedOrder, Store } from '../journal';
import { topicFor, type Result } from '../model';

/** The result with the order's patient (matched by order) and the order numbers it lacks. */
export function applyOrder(result: Result, order: IndexedOrder): Result {
  const numbers: NonNullable<Result['order']> = { ...(result.order ?? {}) };
  if (numbers.placerNumber === undefined && order.placerNumber !== undefined) numbers.placerNumber = order.placerNumber;
  if (numbers.fillerNumber === undefined && order.fillerNumber !== undefined) numbers.fillerNumber = order.fillerNumber;
  if (numbers.accessionNumber === undefined && order.accessionNumber !== undefined) numbers.accessionNumber = order.accessionNumber;
  if (numbers.code === undefined && order.orderCode !== undefined) numbers.code = order.orderCode;
  const updated: Result = { ...result, patient: { ...order.patient, matched: true, matchedBy: 'order' }, order: numbers };
  if (order.orderedAt !== undefined && result.times.ordered === undefined) updated.times = { ...result.times, ordered: order.orderedAt };
  return updated;
}

/**
 * The result with its patient, from the device (kept as is) or from the order indexed for its
 * specimen id (or its placer order number); unchanged (patient absent or matched: false) when
 * there is none yet.
 */
export function matchResult(store: Store, result: Result): Result {
  if (result.patient?.matched === true) return result;
  const specimenId = result.specimen?.id?.trim();
  const placerNumber = result.order?.placerNumber?.trim();
  const order = (specimenId ? store.findOrderBySpecimen(specimenId) : undefined) ?? (placerNumber ? store.findOrderByPlacer(placerNumber) : undefined);
  return order ? applyOrder(result, order) : result;
}

/** The bus topic a held result is published on again: the hub's site (it holds it), its kind and device. */
export function resultTopic(site: string, result: Result): string {
  return topicFor({ site, kind: result.kind, source: result.source.deviceId, event: 'result' });
}

/**
 * Journals a re-published result in the outbox of `channel` (published by that channel's Outbox,
 * so it survives a crash): its raw bytes are the result's JSON, its topic the result's topic.
 */
export function journalRepublish(store: Store, channel: string, site: string, result: Result): string {
  return store.journalInbound({
    channel,
    contentType: 'application/json',
    raw: Buffer.from(JSON.stringify(result)),
    status: 'accepted',
    resultId: result.id,
    publishTopic: resultTopic(site, result),
  });
}

export interface IndexedOrders {
  /** Orders indexed from the message. */
  orders: number;
  /** Imaging orders: scheduled procedure steps put on the modality worklist, or taken off it. */
  imaging: ImagingOrder[];
  /** Held results matched by them, journaled for re-publication on the bus. */
  rematched: Result[];
}

/**
 * Indexes the orders of an OML^O21 / ORM^O01 (nothing for other messages), and re-publishes,
 * now matched, the results already held for their specimens (late orders): each is updated in
 * the results index and journaled in `channel`'s outbox. One transaction: call it in the same
 * step as journaling the message, before the ACK.
 */
export function indexOrders(store: Store, message: Hl7Message, context: { journalId?: string; channel: string; site: string; options?: OrderExtractOptions }): IndexedOrders {
  const extracted = extractOrders(message, context.options);
  const imaging = extractImagingOrders(message);
  if (extracted.length === 0 && imaging.length === 0) return { orders: 0, imaging: [], rematched: [] };
  return store.transaction(() => {
    for (const order of imaging) scheduleImagingOrder(store, order, context.journalId);
    const rematched: Result[] = [];
    for (const order of extracted) {
      const indexed = store.indexOrder({ ...order, sourceJournalId: context.journalId });
      if (!indexed.specimenId) continue;
      for (const held of store.unmatchedBySpecimen(indexed.specimenId)) {
        const matched = applyOrder(held, indexed);
        store.recordResult(matched);
        journalRepublish(store, context.channel, context.site, matched);
        rematched.push(matched);
      }
    }
    return { orders: extracted.length, imaging, rematched };
  });
}

/**
 * Puts an imaging order's step on the modality worklist (or takes a cancelled order's steps off).
 * A step needs a Study Instance UID the modality will put in its images: the order's, or one the
 * hub makes and keeps (the same answer to every query).
 */
export function scheduleImagingOrder(store: Store, order: ImagingOrder, sourceJournalId?: string): number {
  const imaging = store.imaging();
  const step = { ...order, studyInstanceUid: order.studyInstanceUid ?? knownStudyUid(store, order) ?? uuidUid() };
  return imaging.schedule({ accessionNumber: order.accessionNumber, stepId: order.step.id, placerNumber: order.placerNumber, cancelled: order.cancelled, details: step, sourceJournalId }, Date.now());
}

/** The Study Instance UID the hub gave this accession number before (an order updated). */
function knownStudyUid(store: Store, order: ImagingOrder): string | undefined {
  return (store.imaging().stepByAccession(order.accessionNumber)?.details as ImagingOrder | undefined)?.studyInstanceUid;
}
