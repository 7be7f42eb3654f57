/**
 * passerelle-bus: the MQTT bus a Passerelle node talks to. "Hub" uses the hub's own broker
 * and credentials; "broker" names another (Mosquitto, EMQX, …) with its credentials and TLS.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { BusClient } from '../../adapters/bus';
import { hubSettings } from '../hub-settings';

interface BusNodeDef extends NodeDef {
  mode: 'hub' | 'broker';
  url: string;
  tls: string;
}

interface BusCredentials {
  username?: string;
  password?: string;
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

export interface BusNode extends Node<BusCredentials> {
  /** A client with a persistent session named after the calling node: stable across restarts. */
  connect(owner: Node): Promise<BusClient>;
}

module.exports = function register(RED: NodeAPI): void {
  function PasserelleBusNode(this: Node<BusCredentials>, def: BusNodeDef): void {
    RED.nodes.createNode(this, def);
    const self = this as BusNode;
    const credentials = this.credentials ?? {};
    const tlsNode = def.tls ? (RED.nodes.getNode(def.tls) as TlsConfigNode | null) : null;

    self.connect = async (owner: Node) => {
      const clientId = `passerelle-${hubSettings(RED).siteId}-${owner.id}`;
      if (def.mode !== 'broker') {
        const hubBus = hubSettings(RED).bus;
        if (!hubBus) throw new Error(RED._('passerelle-bus.errors.no-hub-bus'));
        return BusClient.connect({ url: hubBus.url, username: hubBus.username, password: hubBus.password, clientId });
      }
      if (!def.url) throw new Error(RED._('passerelle-bus.errors.no-url'));
      const tls: Record<string, unknown> = {};
      tlsNode?.addTLSOptions(tls);
      return BusClient.connect({
        url: def.url,
        username: credentials.username || undefined,
        password: credentials.password || undefined,
        clientId,
        ca: tls.ca as Buffer | undefined,
        rejectUnauthorized: tls.rejectUnauthorized as boolean | undefined,
      });
    };
  }
  RED.nodes.registerType<Node<BusCredentials>, BusNodeDef, unknown, BusCredentials>('passerelle-bus', PasserelleBusNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
