/**
 * passerelle-imaging-order: puts an imaging order on the modality worklist from a wire — the
 * record's ORM^O01 / OMI^O23 as text (a file, an HTTP endpoint, another interface) or a small JSON
 * order a technician types to try a modality before it goes live. The input is journaled and its
 * steps scheduled in one commit; the steps leave on the output. "DICOM in" nodes serve them.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { imagingOrderFromInput } from '../../adapters/dicom/worklist-order';
import { decodeMessage, extractImagingOrders, Hl7Message, type ImagingOrder } from '../../adapters/hl7';
import type { Store } from '../../adapters/journal';
import { scheduleImagingOrder } from '../../adapters/matching';
import { hubSettings, openStore } from '../hub-settings';
import { NodeStatus, shortError } from '../status';

type Done = (err?: Error) => void;

/** The orders a payload carries: HL7 text (or bytes) starting with MSH, else one JSON order. */
export function ordersOf(payload: unknown): { orders: ImagingOrder[]; raw: Buffer; contentType: string } {
  const bytes = Buffer.isBuffer(payload) ? payload : typeof payload === 'string' ? Buffer.from(payload, 'utf8') : undefined;
  if (bytes && bytes.subarray(0, 3).toString('latin1') === 'MSH') {
    const message = Hl7Message.parse(decodeMessage(bytes).text);
    const orders = extractImagingOrders(message);
    if (orders.length === 0) throw new Error(`${message.messageType || 'the message'} carries no imaging order (ORM^O01 or OMI^O23 with an accession number and a modality)`);
    return { orders, raw: bytes, contentType: 'application/hl7-v2' };
  }
  const order = imagingOrderFromInput(bytes ? JSON.parse(bytes.toString('utf8')) : payload);
  return { orders: [order], raw: Buffer.from(JSON.stringify(payload)), contentType: 'application/json' };
}

module.exports = function register(RED: NodeAPI): void {
  function ImagingOrderNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const channel = `order:${node.id}`;
    const store: Store = openStore(RED);
    const timeFormat = new Intl.DateTimeFormat('fr-FR', { timeZone: settings.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' });
    let scheduled = 0;
    status.working(RED._('passerelle-imaging-order.status.ready'));

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessageInFlow) => void, done: Done) => {
      let parsed: ReturnType<typeof ordersOf>;
      try {
        parsed = ordersOf(msg.payload);
      } catch (err) {
        const reason = (err as Error).message;
        const raw = Buffer.isBuffer(msg.payload) ? msg.payload : Buffer.from(typeof msg.payload === 'string' ? msg.payload : JSON.stringify(msg.payload ?? null) ?? '');
        const journalId = store.journalInbound({ channel, contentType: 'application/octet-stream', raw, status: 'rejected', error: reason });
        status.failing(shortError(reason, 19));
        done(new Error(RED._('passerelle-imaging-order.errors.refused', { journalId, reason })));
        return;
      }
      // One commit: the input as it came, and the steps it schedules (or cancels).
      const steps = store.transaction(() => {
        const journalId = store.journalInbound({ channel, contentType: parsed.contentType, raw: parsed.raw, status: 'accepted' });
        for (const order of parsed.orders) scheduleImagingOrder(store, order, journalId);
        return parsed.orders.map((order) => ({ ...order, studyInstanceUid: order.studyInstanceUid ?? (store.imaging().stepByAccession(order.accessionNumber)?.details as ImagingOrder | undefined)?.studyInstanceUid }));
      });
      scheduled += steps.length;
      status.working(RED._('passerelle-imaging-order.status.scheduled', { count: scheduled, time: timeFormat.format(Date.now()) }));
      send({ ...msg, payload: steps });
      done();
    });
    node.on('close', (_removed: boolean, done: () => void) => {
      store.close();
      done();
    });
  }
  RED.nodes.registerType('passerelle-imaging-order', ImagingOrderNode);
};
