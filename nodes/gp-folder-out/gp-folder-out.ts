/**
 * passerelle-gp-folder-out: a report's files (from "GP message") → `<folder>/<GP's RPPS or
 * mailbox>/`, for a messaging client that picks files up; through this node's durable queue, so
 * a folder that cannot be written (a share not mounted, a full disk) holds the files until it can.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { isAbsolute } from 'node:path';
import { enqueueGpDrop, FolderDropTransport, gpDrop } from '../../adapters/gp/folder';
import { decodeGpFiles } from '../../adapters/gp/mail';
import { idleGpQueue, runGpQueue, type GpQueueDef } from '../gp-queue';

interface GpFolderOutDef extends NodeDef, GpQueueDef {
  folder: string;
}

module.exports = function register(RED: NodeAPI): void {
  function GpFolderOutNode(this: Node, def: GpFolderOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const folder = (def.folder || '').trim();
    // No folder given (GP_DROP_DIR empty or unset in the site flow): idle, said by the status alone.
    if (/^(\$\{[A-Za-z_][A-Za-z0-9_]*\})?$/.test(folder)) return idleGpQueue(node, RED._('passerelle-gp-folder-out.status.not-configured'));
    if (!isAbsolute(folder)) {
      idleGpQueue(node, RED._('passerelle-gp-folder-out.status.not-configured'));
      node.error(RED._('passerelle-gp-folder-out.errors.folder', { value: folder }));
      return;
    }
    runGpQueue(RED, node, def, {
      type: 'passerelle-gp-folder-out',
      transport: new FolderDropTransport(folder),
      enqueue: (store, destination, payload) => {
        const { report, files } = decodeGpFiles(payload);
        return enqueueGpDrop(store, destination, gpDrop(report, files));
      },
    });
  }
  RED.nodes.registerType('passerelle-gp-folder-out', GpFolderOutNode);
};
