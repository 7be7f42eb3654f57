/** The destinations the pages name: the delivery nodes of the deployed flows, with the names the technician gave them. */

/** Node types whose node id is a destination of the outbound queues. */
const DESTINATION_TYPES = new Set(['passerelle-to-record', 'passerelle-gp-mail-out', 'passerelle-gp-folder-out']);

interface NodeConfig {
  id: string;
  type: string;
  name?: string;
  d?: boolean;
}

/** `eachNode` is RED.nodes.eachNode: every node of the deployed flows. Unnamed nodes are named by their id. */
export function flowDestinations(eachNode: (visit: (node: NodeConfig) => void) => void): Array<{ id: string; name: string }> {
  const destinations: Array<{ id: string; name: string }> = [];
  eachNode((node) => {
    if (DESTINATION_TYPES.has(node.type) && node.d !== true) destinations.push({ id: node.id, name: node.name?.trim() || node.id });
  });
  return destinations;
}
