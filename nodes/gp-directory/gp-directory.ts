/**
 * passerelle-gp-directory (config node): the GP directory a technician edits — a JSON file
 * (re-read when it changes, so an edit needs no redeploy) or JSON typed in the editor — checked
 * by loadGpDirectory. Nodes that use it call directory(), which throws a clear error when the
 * directory cannot be used (a result is then not sent under a guessed GP, and comes again).
 */
import { readFileSync, statSync } from 'node:fs';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { loadGpDirectory, type GpDirectory } from '../../adapters/gp';

interface GpDirectoryDef extends NodeDef {
  source: 'file' | 'inline';
  path: string;
  json: string;
}

export interface GpDirectoryNode extends Node {
  /** The directory as loaded now; undefined when no file is named (GP_DIRECTORY unset); throws an Error saying what to fix. */
  directory(): GpDirectory | undefined;
}

module.exports = function register(RED: NodeAPI): void {
  function GpDirectoryConfigNode(this: Node, def: GpDirectoryDef): void {
    RED.nodes.createNode(this, def);
    const self = this as GpDirectoryNode;
    const path = (def.path || '').trim();
    let loaded: { key: string; directory?: GpDirectory; error?: Error } | undefined;

    const load = (text: string, where: string): GpDirectory => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new Error(RED._('passerelle-gp-directory.errors.json', { where, reason: (err as Error).message }));
      }
      try {
        return loadGpDirectory(value);
      } catch (err) {
        throw new Error(RED._('passerelle-gp-directory.errors.invalid', { where, reason: (err as Error).message }));
      }
    };

    self.directory = () => {
      let key: string;
      if (def.source === 'inline') key = 'inline';
      else {
        // No file named (the site flow's GP_DIRECTORY unset): no directory, only the GPs the record names.
        if (!path || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(path)) return undefined;
        try {
          const s = statSync(path);
          key = `${s.mtimeMs}:${s.size}`;
        } catch (err) {
          throw new Error(RED._('passerelle-gp-directory.errors.read', { path, reason: (err as Error).message }));
        }
      }
      if (loaded?.key !== key) {
        try {
          const directory = def.source === 'inline' ? load(def.json || '', 'inline') : load(readFileSync(path, 'utf8'), path);
          loaded = { key, directory };
          for (const warning of directory.warnings) self.warn(warning);
        } catch (err) {
          loaded = { key, error: err as Error };
        }
      }
      if (loaded.error) throw loaded.error;
      return loaded.directory!;
    };
  }
  RED.nodes.registerType('passerelle-gp-directory', GpDirectoryConfigNode);
};
