/** Node-RED settings for the embedded runtime, derived from the hub's configuration. */
import bcrypt from 'bcryptjs';
import { join } from 'node:path';
import type { HubConfig } from './config';

/** What our nodes read from RED.settings.passerelle (see nodes/hub-settings.ts). */
export interface PasserelleSettings {
  dataDir: string;
  siteId: string;
  timeZone: string;
  durability: HubConfig['durability'];
  bus: { url: string; username?: string; password?: string };
}

export function nodeRedSettings(config: HubConfig, passerelle: PasserelleSettings): Record<string, unknown> {
  const settings: Record<string, unknown> = {
    userDir: join(config.dataDir, 'node-red'),
    flowFile: 'flows.json',
    credentialSecret: config.credentialSecret,
    httpAdminRoot: '/',
    httpNodeRoot: '/flows-http',
    uiHost: config.host,
    uiPort: config.port,
    logging: { console: { level: process.env.PASSERELLE_LOG_LEVEL || 'info', metrics: false, audit: false } },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false }, // no update check: hospital networks are closed
    lang: process.env.PASSERELLE_LANG || 'fr', // runtime messages (status, logs); the editor follows the browser
    runtimeState: { enabled: false },
    editorTheme: {
      page: { title: 'Passerelle' },
      header: { title: `Passerelle · ${config.siteId}` },
      projects: { enabled: false },
      tours: false,
      palette: { categories: ['passerelle', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] },
    },
    passerelle,
  };
  if (config.admin) {
    const hash = config.admin.passwordHash ?? bcrypt.hashSync(config.admin.password ?? '', 10);
    settings.adminAuth = { type: 'credentials', users: [{ username: config.admin.username, password: hash, permissions: '*' }] };
    // Flows' own HTTP endpoints get the same login (basic auth), never open on a network.
    settings.httpNodeAuth = { user: config.admin.username, pass: hash };
  }
  return settings;
}
