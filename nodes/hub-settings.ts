/**
 * What a Passerelle node needs from its surroundings. Inside the hub these come from
 * RED.settings.passerelle (gateway/settings.ts); in a plain Node-RED, from defaults beside
 * the user directory, so the nodes work there too.
 */
import type { NodeAPI } from 'node-red';
import { join } from 'node:path';
import { Store } from '../adapters/journal';

export interface HubSettings {
  dataDir: string;
  siteId: string;
  timeZone: string;
  durability: 'process-crash' | 'power-loss';
  /** The hub's own bus; absent in a plain Node-RED, where the bus node must name a broker. */
  bus?: { url: string; username?: string; password?: string };
}

export function hubSettings(RED: NodeAPI): HubSettings {
  const settings = RED.settings as unknown as { passerelle?: Partial<HubSettings>; userDir?: string };
  const given = settings.passerelle ?? {};
  return {
    dataDir: given.dataDir ?? join(settings.userDir ?? process.cwd(), 'passerelle'),
    siteId: given.siteId ?? 'site',
    timeZone: given.timeZone ?? 'Europe/Paris',
    durability: given.durability ?? 'process-crash',
    bus: given.bus,
  };
}

/** The process-wide store (shared, reference-counted): close it in the node's close handler. */
export function openStore(RED: NodeAPI): Store {
  const { dataDir, durability } = hubSettings(RED);
  return Store.open({ dir: join(dataDir, 'journal'), durability });
}
