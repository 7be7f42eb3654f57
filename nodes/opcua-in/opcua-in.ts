/**
 * passerelle-opcua-in: chosen variables of an OPC UA server, one message per change with its
 * value, source timestamp and status. A variable the server does not have (or no longer has:
 * its address space changed) is an error naming it (Catch nodes); the others go on.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { OpcuaConnection, StateEvent, VariableChange, WatchedVariable } from '../../adapters/opcua';
import { opcuaAdapter } from '../opcua-adapter';
import type { OpcuaClientNode } from '../opcua-client/opcua-client';
import { showConnection } from '../opcua-status';
import { NodeStatus, shortError } from '../status';

interface OpcuaInDef extends NodeDef {
  client: string;
  /** One variable a line: a node id, then optionally a space and the name it is given on the output. */
  variables: string;
  /** Milliseconds. */
  samplingInterval: string | number;
}

/** The variables of the dialog's text: `ns=2;s=Temperature temperature`, one a line; blank lines and # comments skipped. */
export function parseVariables(text: string): WatchedVariable[] {
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')).map((line) => {
    const [nodeId, ...name] = line.split(/\s+/);
    return { nodeId, ...(name.length > 0 ? { name: name.join(' ') } : {}) };
  });
}

module.exports = function register(RED: NodeAPI): void {
  function OpcuaInNode(this: Node, def: OpcuaInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const clientNode = RED.nodes.getNode(def.client) as OpcuaClientNode | null;
    const variables = parseVariables(def.variables ?? '');
    const refuse = (reason: string) => {
      status.idle(RED._('passerelle-opcua-in.status.not-configured'));
      node.error(RED._('passerelle-opcua-in.errors.config', { reason }));
    };
    if (!clientNode) return refuse(RED._('passerelle-opcua-in.errors.no-client'));
    if (!clientNode.endpoint) return status.idle(RED._('passerelle-opcua-in.status.no-endpoint'));
    if (variables.length === 0) return refuse(RED._('passerelle-opcua-in.errors.no-variables'));
    const { isNodeRef, VariableWatch } = opcuaAdapter();
    const bad = variables.find((v) => !isNodeRef(v.nodeId));
    if (bad) return refuse(RED._('passerelle-opcua-in.errors.node-id', { value: bad.nodeId }));

    let connection: OpcuaConnection;
    try {
      connection = clientNode.acquire();
    } catch (err) {
      return refuse(shortError(err, 200));
    }
    const missing = new Set<string>();
    let state: StateEvent = { state: connection.state };
    const showStatus = () => {
      if (state.state === 'connected' && missing.size > 0) return status.failing(RED._('passerelle-opcua-in.status.missing', { count: missing.size, total: variables.length }));
      showConnection(RED, status, state, RED._('passerelle-opcua-in.status.watching', { count: variables.length }));
    };
    const onState = (event: StateEvent) => {
      state = event;
      if (event.state === 'connected') missing.clear(); // watched again: a variable back in the address space counts again
      showStatus();
    };
    connection.on('state', onState);

    const samplingIntervalMs = Number(def.samplingInterval) > 0 ? Number(def.samplingInterval) : 250;
    const watch = new VariableWatch(connection, variables, { samplingIntervalMs, publishingIntervalMs: Math.max(100, samplingIntervalMs) });
    watch.on('change', (change: VariableChange) => {
      if (missing.delete(change.nodeId)) showStatus();
      node.send({
        topic: change.name, payload: change.value,
        nodeId: change.nodeId, dataType: change.dataType, status: change.status, statusCode: change.statusCode,
        sourceTimestamp: change.sourceTimestamp, serverTimestamp: change.serverTimestamp,
      });
    });
    watch.on('item-error', (e: { nodeId: string; error: Error }) => {
      missing.add(e.nodeId);
      showStatus();
      node.error(RED._('passerelle-opcua-in.errors.variable', { reason: e.error.message }), { topic: e.nodeId, payload: { nodeId: e.nodeId, error: e.error.message } });
    });
    watch.on('error', (err: Error) => node.error(RED._('passerelle-opcua-in.errors.subscription', { reason: err.message })));
    watch.start();
    showStatus();

    node.on('close', (_removed: boolean, done: () => void) => {
      connection.off('state', onState);
      watch.close().then(() => clientNode.release()).then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-opcua-in', OpcuaInNode);
};
