/**
 * Following a LADS device: find it (in the DI DeviceSet, or at a given node), read what it is
 * (identification, functional units), watch its device state and each functional unit's state,
 * and read every complete result of each unit's ResultSet once (a result is complete when its
 * Stopped time is set). The ResultSet is read again at each (re)connection, when a functional
 * unit changes state (a program ends), and every `pollIntervalMs`: a result that appeared while
 * the server was away is found at the next connection. A result is done once `onResult` resolved
 * (the caller journaled it); a failed one is read again at the next scan.
 */
import { EventEmitter } from 'node:events';
import {
  AttributeIds, BrowseDirection, NodeClass,
  type ClientSession, type ReferenceDescription,
} from 'node-opcua';
import type { OpcuaConnection, StateEvent } from '../client';
import { plainDataValue, plainVariant } from '../values';
import { resolveNodeRef, VariableWatch, type VariableChange } from '../watch';
import type { LadsFile, LadsResultSnapshot, LadsSample, LadsVariable } from './mapping';
import { SNAPSHOT_SCHEMA } from './mapping';
import { CURRENT_STATE, DI_DEVICE_SET, DI_IDENTIFICATION, IDENTIFICATION, DI_NAMESPACE, ENGINEERING_UNITS, LADS, LADS_NAMESPACE, NODE_VERSION } from './names';

export interface LadsFunctionalUnit {
  nodeId: string;
  name: string;
  stateNodeId?: string;
  resultSetNodeId?: string;
  /** The ResultSet's NodeVersion, when the server keeps one. */
  resultSetVersionNodeId?: string;
}

export interface LadsDevice {
  nodeId: string;
  name: string;
  manufacturer?: string;
  model?: string;
  serial?: string;
  softwareVersion?: string;
  deviceStateNodeId?: string;
  functionalUnits: LadsFunctionalUnit[];
}

export interface LadsStateChange {
  /** 'device', or the functional unit's name. */
  scope: 'device' | 'functional-unit';
  name: string;
  state: string;
  at?: string;
}

export interface LadsFollowerOptions {
  /** The device's node (ns=…;s=… or nsu=…); empty: the LADS device in the DI DeviceSet (the first if several). */
  deviceNodeId?: string;
  /** Read the ResultSets again every … ms (default 10 s). */
  pollIntervalMs?: number;
  /** Results that stopped before this are left alone (what an instrument kept from long ago). */
  since?: Date;
}

const MAX_DEPTH = 4;

async function browseChildren(session: ClientSession, nodeId: string): Promise<ReferenceDescription[]> {
  const result = await session.browse({
    nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: 'HierarchicalReferences', includeSubtypes: true, nodeClassMask: 0, resultMask: 63,
  });
  if (result.statusCode.name !== 'Good') throw new Error(`browse ${nodeId}: ${result.statusCode.name}`);
  const references = [...(result.references ?? [])];
  let continuation = result.continuationPoint;
  while (continuation && continuation.length > 0) {
    const next = await session.browseNext(continuation, false);
    references.push(...(next.references ?? []));
    continuation = next.continuationPoint;
  }
  return references;
}

/** A child by browse name, in the expected namespace first (vendors sometimes put members in their own). */
function child(references: ReferenceDescription[], name: string, namespaceIndex: number): ReferenceDescription | undefined {
  const named = references.filter((r) => r.browseName.name === name);
  return named.find((r) => r.browseName.namespaceIndex === namespaceIndex) ?? named[0];
}

const idOf = (reference: ReferenceDescription | undefined) => reference?.nodeId.toString();

/** A DateTime LADS leaves unset until the run ends: null or OPC UA's minimum (1601-01-01). */
function isSet(value: unknown): value is string {
  return typeof value === 'string' && Date.parse(value) > Date.UTC(1601, 0, 2);
}

export class LadsFollower extends EventEmitter {
  private device?: LadsDevice;
  private watch?: VariableWatch;
  private readonly done = new Set<string>();
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private again = false;
  private closed = false;
  /** Connections handled one after the other: two quick reconnections do not make two watches. */
  private connecting: Promise<void> = Promise.resolve();
  private readonly onState = (event: StateEvent) => {
    if (event.state === 'connected') this.whenConnected();
  };

  private whenConnected(): void {
    this.connecting = this.connecting.then(() => this.connected()).catch((err: Error) => {
      if (!this.closed) this.emit('error', err);
    });
  }

  constructor(
    private readonly connection: OpcuaConnection,
    private readonly options: LadsFollowerOptions,
    private readonly onResult: (snapshot: LadsResultSnapshot) => Promise<void>,
  ) {
    super();
  }

  /** The device as last read (undefined before the first connection). */
  get current(): LadsDevice | undefined { return this.device; }

  start(): void {
    this.connection.on('state', this.onState);
    this.timer = setInterval(() => void this.scan(), this.options.pollIntervalMs ?? 10_000);
    if (this.connection.session()) this.whenConnected();
  }

  /** At each connection: the device read again (a restarted server may have changed), its states watched, its results read. */
  private async connected(): Promise<void> {
    const session = this.connection.session();
    if (!session || this.closed) return;
    try {
      this.device = await this.discover(session);
      this.emit('device', this.device);
    } catch (err) {
      if (!this.closed) this.emit('error', err as Error);
      return;
    }
    await this.watch?.close();
    if (this.closed) return;
    const device = this.device;
    const versions = new Set(device.functionalUnits.flatMap((u) => (u.resultSetVersionNodeId ? [u.resultSetVersionNodeId] : [])));
    const variables = [
      ...(device.deviceStateNodeId ? [{ nodeId: device.deviceStateNodeId, name: 'device' }] : []),
      ...device.functionalUnits.filter((u) => u.stateNodeId).map((u) => ({ nodeId: u.stateNodeId!, name: u.name })),
      ...[...versions].map((nodeId) => ({ nodeId, name: NODE_VERSION })),
    ];
    const watch = new VariableWatch(this.connection, variables, { samplingIntervalMs: 100, publishingIntervalMs: 200 });
    watch.on('change', (change: VariableChange) => {
      if (versions.has(change.nodeId)) {
        void this.scan();
        return;
      }
      const scope = change.nodeId === device.deviceStateNodeId ? 'device' : 'functional-unit';
      this.emit('state', { scope, name: change.name, state: typeof change.value === 'string' ? change.value : JSON.stringify(change.value), at: change.sourceTimestamp } satisfies LadsStateChange);
      if (scope === 'functional-unit') void this.scan();
    });
    watch.on('item-error', (e: { error: Error }) => this.emit('error', e.error));
    watch.on('error', (err: Error) => this.emit('error', err));
    this.watch = watch;
    watch.start();
    await this.scan();
  }

  private async discover(session: ClientSession): Promise<LadsDevice> {
    const namespaces = await session.readNamespaceArray();
    const lads = namespaces.indexOf(LADS_NAMESPACE);
    const di = namespaces.indexOf(DI_NAMESPACE);
    const endpoint = this.connection.options.endpointUrl;
    if (lads < 0) throw new Error(`${endpoint} has no LADS namespace (${LADS_NAMESPACE}): not a LADS server`);
    let deviceId: string;
    let deviceName: string;
    let deviceChildren: ReferenceDescription[];
    if (this.options.deviceNodeId) {
      deviceId = resolveNodeRef(this.options.deviceNodeId, namespaces).toString();
      deviceChildren = await browseChildren(session, deviceId);
      if (!child(deviceChildren, LADS.functionalUnitSet, lads)) throw new Error(`${endpoint}: node ${this.options.deviceNodeId} is not a LADS device (no ${LADS.functionalUnitSet})`);
      const name = await session.read({ nodeId: deviceId, attributeId: AttributeIds.BrowseName });
      deviceName = (name.value.value as { name?: string } | null)?.name ?? deviceId;
    } else {
      if (di < 0) throw new Error(`${endpoint} has no DI namespace (${DI_NAMESPACE}), so no DeviceSet: name the LADS device's node`);
      const candidates = (await browseChildren(session, `ns=${di};i=${DI_DEVICE_SET}`)).filter((r) => r.nodeClass === NodeClass.Object);
      let found: { ref: ReferenceDescription; children: ReferenceDescription[] } | undefined;
      for (const ref of candidates) {
        const children = await browseChildren(session, ref.nodeId.toString());
        if (child(children, LADS.functionalUnitSet, lads)) { found = { ref, children }; break; }
      }
      if (!found) throw new Error(`${endpoint}: no LADS device in the DeviceSet (an object with a ${LADS.functionalUnitSet})`);
      deviceId = found.ref.nodeId.toString();
      deviceName = found.ref.browseName.name ?? deviceId;
      deviceChildren = found.children;
    }
    // DI properties on the device itself, or (LADS, Machinery) in its Identification object.
    const identificationObject = idOf(child(deviceChildren, IDENTIFICATION, di));
    const identificationChildren = identificationObject ? await browseChildren(session, identificationObject) : [];
    const identification = Object.entries(DI_IDENTIFICATION)
      .map(([key, name]) => [key, idOf(child(deviceChildren, name, di) ?? child(identificationChildren, name, di))] as const)
      .filter(([, id]) => id);
    const values = identification.length > 0 ? await session.read(identification.map(([, id]) => ({ nodeId: id!, attributeId: AttributeIds.Value }))) : [];
    const info: Record<string, string> = {};
    identification.forEach(([key], i) => {
      const v = plainVariant(values[i].value).value;
      if (typeof v === 'string' && v.trim() !== '') info[key] = v.trim();
    });
    const stateMachine = idOf(child(deviceChildren, LADS.deviceState, lads));
    const deviceStateNodeId = stateMachine ? idOf(child(await browseChildren(session, stateMachine), CURRENT_STATE, 0)) : undefined;
    const unitSet = idOf(child(deviceChildren, LADS.functionalUnitSet, lads))!;
    const functionalUnits: LadsFunctionalUnit[] = [];
    for (const ref of (await browseChildren(session, unitSet)).filter((r) => r.nodeClass === NodeClass.Object)) {
      const children = await browseChildren(session, ref.nodeId.toString());
      const stateObject = idOf(child(children, LADS.functionalUnitState, lads));
      const stateNodeId = stateObject ? idOf(child(await browseChildren(session, stateObject), CURRENT_STATE, 0)) : undefined;
      const programs = idOf(child(children, LADS.programManager, lads));
      const resultSetNodeId = programs ? idOf(child(await browseChildren(session, programs), LADS.resultSet, lads)) : undefined;
      const resultSetVersionNodeId = resultSetNodeId ? idOf(child(await browseChildren(session, resultSetNodeId), NODE_VERSION, 0)) : undefined;
      functionalUnits.push({
        nodeId: ref.nodeId.toString(), name: ref.browseName.name ?? ref.nodeId.toString(),
        ...(stateNodeId ? { stateNodeId } : {}), ...(resultSetNodeId ? { resultSetNodeId } : {}), ...(resultSetVersionNodeId ? { resultSetVersionNodeId } : {}),
      });
    }
    return { nodeId: deviceId, name: deviceName, ...info, ...(deviceStateNodeId ? { deviceStateNodeId } : {}), functionalUnits };
  }

  /** Reads the ResultSets; one scan at a time (a trigger during a scan runs one more after it). */
  scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.again = false;
        await this.scanOnce();
      } while (this.again && !this.closed);
    })().finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const session = this.connection.session();
    const device = this.device;
    if (!session || !device || this.closed) return;
    const namespaces = await session.readNamespaceArray().catch(() => undefined);
    if (!namespaces) return;
    const lads = namespaces.indexOf(LADS_NAMESPACE);
    for (const unit of device.functionalUnits) {
      if (!unit.resultSetNodeId) continue;
      let results: ReferenceDescription[];
      try {
        results = (await browseChildren(session, unit.resultSetNodeId)).filter((r) => r.nodeClass === NodeClass.Object);
      } catch (err) {
        this.emit('error', new Error(`${this.connection.options.endpointUrl}: result set of ${unit.name}: ${(err as Error).message}`));
        continue;
      }
      for (const ref of results) {
        const key = ref.nodeId.toString();
        if (this.done.has(key) || this.closed) continue;
        try {
          const snapshot = await this.readResult(session, device, unit, ref, lads);
          if (!snapshot) continue; // still running: read again later
          const stopped = Date.parse(snapshot.result.stopped!);
          if (!this.options.since || stopped >= this.options.since.getTime()) await this.onResult(snapshot);
          this.done.add(key);
        } catch (err) {
          this.emit('error', new Error(`${this.connection.options.endpointUrl}: result ${ref.browseName.name ?? key} of ${unit.name}: ${(err as Error).message}`));
        }
      }
    }
  }

  private async readResult(session: ClientSession, device: LadsDevice, unit: LadsFunctionalUnit, ref: ReferenceDescription, lads: number): Promise<LadsResultSnapshot | undefined> {
    const nodeId = ref.nodeId.toString();
    const children = await browseChildren(session, nodeId);
    const member = (name: string) => idOf(child(children, name, lads));
    const names = LADS.result;
    const stoppedId = member(names.stopped);
    if (!stoppedId) throw new Error(`no ${names.stopped}: not a LADS result`);
    const [stopped] = await session.read([{ nodeId: stoppedId, attributeId: AttributeIds.Value }]);
    if (!isSet(plainVariant(stopped.value).value)) return undefined;
    const scalars = (['started', 'stopped', 'supervisoryJobId', 'supervisoryTaskId', 'deviceProgramRunId', 'user'] as const).map((key) => [key, member(names[key])] as const).filter(([, id]) => id);
    const samplesId = member(names.samples);
    const read = await session.read([...scalars.map(([, id]) => ({ nodeId: id!, attributeId: AttributeIds.Value })), ...(samplesId ? [{ nodeId: samplesId, attributeId: AttributeIds.Value }] : [])]);
    const result: LadsResultSnapshot['result'] = { nodeId, name: ref.browseName.name ?? nodeId, samples: [] };
    scalars.forEach(([key], i) => {
      const v = plainVariant(read[i].value).value;
      if (typeof v === 'string' && v !== '' && ((key !== 'started' && key !== 'stopped') || isSet(v))) result[key] = v;
    });
    if (samplesId) {
      const samples = plainVariant(read[scalars.length].value).value;
      result.samples = (Array.isArray(samples) ? samples : samples ? [samples] : []).map((s) => {
        const o = (typeof s === 'object' && s !== null && !Array.isArray(s) ? s : {}) as Record<string, unknown>;
        const sample: LadsSample = {};
        for (const [key, field] of Object.entries(LADS.sample) as Array<[keyof LadsSample, string]>) if (typeof o[field] === 'string' && o[field] !== '') sample[key] = o[field] as string;
        return sample;
      });
    }
    const variableSet = member(names.variableSet);
    const variables = variableSet ? await this.readVariables(session, variableSet, []) : [];
    const fileSet = member(names.fileSet);
    const files = fileSet ? await this.readFiles(session, fileSet, lads) : [];
    return {
      schema: SNAPSHOT_SCHEMA,
      endpointUrl: this.connection.options.endpointUrl,
      readAt: new Date().toISOString(),
      device: { nodeId: device.nodeId, name: device.name, ...(device.manufacturer ? { manufacturer: device.manufacturer } : {}), ...(device.model ? { model: device.model } : {}), ...(device.serial ? { serial: device.serial } : {}), ...(device.softwareVersion ? { softwareVersion: device.softwareVersion } : {}) },
      functionalUnit: { nodeId: unit.nodeId, name: unit.name },
      result,
      variables,
      files,
    };
  }

  /** The variables below a VariableSet (and its sub-sets, a few levels down), with their values and units. */
  private async readVariables(session: ClientSession, setId: string, path: string[]): Promise<LadsVariable[]> {
    const found: Array<{ nodeId: string; path: string[]; unitId?: string }> = [];
    const walk = async (id: string, at: string[]) => {
      for (const ref of await browseChildren(session, id)) {
        const name = ref.browseName.name ?? ref.nodeId.toString();
        if (ref.nodeClass === NodeClass.Variable) {
          const props = await browseChildren(session, ref.nodeId.toString());
          found.push({ nodeId: ref.nodeId.toString(), path: [...at, name], unitId: idOf(child(props, ENGINEERING_UNITS, 0)) });
        } else if (ref.nodeClass === NodeClass.Object && at.length < MAX_DEPTH) {
          await walk(ref.nodeId.toString(), [...at, name]);
        }
      }
    };
    await walk(setId, path);
    if (found.length === 0) return [];
    const values = await session.read(found.map((f) => ({ nodeId: f.nodeId, attributeId: AttributeIds.Value })), 0);
    const withUnits = found.filter((f) => f.unitId);
    const units = withUnits.length > 0 ? await session.read(withUnits.map((f) => ({ nodeId: f.unitId!, attributeId: AttributeIds.Value }))) : [];
    return found.map((f, i) => {
      const u = f.unitId ? units[withUnits.indexOf(f)]?.value.value as { displayName?: { text?: string }; unitId?: number } | null : undefined;
      const displayName = u?.displayName?.text ?? undefined;
      return {
        path: f.path, nodeId: f.nodeId, ...plainDataValue(values[i]),
        ...(displayName ? { unit: { displayName, ...(u?.unitId ? { unitId: u.unitId } : {}) } } : {}),
      };
    });
  }

  private async readFiles(session: ClientSession, setId: string, lads: number): Promise<LadsFile[]> {
    const files: LadsFile[] = [];
    for (const ref of (await browseChildren(session, setId)).filter((r) => r.nodeClass === NodeClass.Object)) {
      const children = await browseChildren(session, ref.nodeId.toString());
      const ids = [LADS.file.name, LADS.file.mimeType, LADS.file.url].map((n) => idOf(child(children, n, lads)));
      const read = await session.read(ids.filter(Boolean).map((nodeId) => ({ nodeId: nodeId!, attributeId: AttributeIds.Value })));
      const texts: Array<string | undefined> = [];
      let j = 0;
      for (const id of ids) {
        const v = id ? plainVariant(read[j++].value).value : undefined;
        texts.push(typeof v === 'string' && v !== '' ? v : undefined);
      }
      const fileNodeId = idOf(child(children, LADS.file.file, lads));
      files.push({
        nodeId: ref.nodeId.toString(), name: texts[0] ?? ref.browseName.name ?? ref.nodeId.toString(),
        ...(texts[1] ? { mimeType: texts[1] } : {}), ...(texts[2] ? { url: texts[2] } : {}), ...(fileNodeId ? { fileNodeId } : {}),
      });
    }
    return files;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.connection.off('state', this.onState);
    await this.connecting;
    await this.scanning?.catch(() => undefined);
    await this.watch?.close();
  }
}
