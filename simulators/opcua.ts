/**
 * A simulated OPC UA instrument: a real node-opcua server exposing a small LADS-shaped analyser
 * (the OPC Foundation's LADS 1.0.0 nodeset and its DI, AMB, IA and Machinery dependencies, as
 * shipped by node-opcua-nodesets) and a few plain variables. It publishes a new result when told
 * (`publishResult`, a line on stdin, or `--every`), and can lose a variable (`removeVariable`) to
 * play an address space that changed. Its results survive a restart (`results` in the options).
 *
 * `npm run simulate -- opcua --port 4840 [--host 127.0.0.1 --every ms --user U --password P]`
 * Commands on stdin: `result [specimen id]`, `remove <variable>`, `state <device state>`, `quit`.
 */
import {
  coerceLocalizedText, DataType, makeEUInformation, MessageSecurityMode, nodesets, OPCUACertificateManager, OPCUAServer, SecurityPolicy,
  StatusCodes, Variant, VariantArrayType, type AddressSpace, type Namespace, type UAObject, type UAVariable,
} from 'node-opcua';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LADS_NAMESPACE, DI_NAMESPACE, DI_DEVICE_SET } from '../adapters/opcua/lads/names';
import { restoreOpensslConf } from '../adapters/opcua/openssl-env';

/** One measured value of a simulated result. */
export interface SimulatedValue {
  name: string;
  value: number | string | null;
  unit?: string;
  /** An OPC UA status code name for the value (default Good). */
  status?: string;
}

/** One file of a simulated result (exposed by reference: name, MIME type, URL). */
export interface SimulatedFile {
  name: string;
  mimeType: string;
  url: string;
}

export interface SimulatedResult {
  /** The result's browse name in the ResultSet (Result-0001, ...). */
  name: string;
  runId: string;
  jobId: string;
  samples: Array<{ sampleId: string; containerId?: string; position?: string }>;
  values: SimulatedValue[];
  files: SimulatedFile[];
  started: Date;
  stopped: Date;
}

export interface SimulatedInstrumentOptions {
  port: number;
  host?: string;
  /** Where the server keeps its PKI (certificates): the same folder across a restart keeps its identity. */
  pkiDir: string;
  /** Results already on the instrument (what it kept across a restart). */
  results?: SimulatedResult[];
  /** Accepted user name and password (anonymous is accepted too unless `anonymous` is false). */
  users?: Record<string, string>;
  anonymous?: boolean;
  /** Trust any client and user certificate (a test server); otherwise only those in the PKI's trusted folder. */
  trustAll?: boolean;
}

/** What the simulated analyser measures: a point-of-care chemistry run (values near normal). */
export function simulatedValues(n: number): SimulatedValue[] {
  return [
    { name: 'Glucose', value: Number((5 + (n % 7) * 0.3).toFixed(1)), unit: 'mmol/L' },
    { name: 'CRP', value: n % 5 === 0 ? '<5' : 3 + (n % 11), unit: 'mg/L' },
    { name: 'Hemoglobin', value: Number((13 + (n % 4) * 0.4).toFixed(1)), unit: 'g/dL' },
  ];
}

export class SimulatedInstrument {
  readonly results: SimulatedResult[];
  private server?: OPCUAServer;
  private own?: Namespace;
  private ladsIndex = 0;
  private resultSet?: UAObject;
  private resultSetVersion?: UAVariable;
  private plain = new Map<string, UAVariable>();
  private deviceState?: UAVariable;
  private unitState?: UAVariable;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: SimulatedInstrumentOptions) {
    this.results = [...(options.results ?? [])];
  }

  get port(): number { return this.options.port; }
  get endpointUrl(): string { return `opc.tcp://${this.options.host ?? '127.0.0.1'}:${this.options.port}`; }
  /** The server's own namespace (its plain variables and LADS instances). */
  static readonly NAMESPACE = 'urn:passerelle:simulator:opcua';

  async start(): Promise<this> {
    const pki = (name: string) => {
      const dir = join(this.options.pkiDir, name);
      mkdirSync(dir, { recursive: true });
      return new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: this.options.trustAll !== false });
    };
    const users = this.options.users ?? {};
    const server = new OPCUAServer({
      port: this.options.port,
      host: this.options.host ?? '127.0.0.1',
      hostname: this.options.host ?? '127.0.0.1',
      nodeset_filename: [nodesets.standard, nodesets.di, nodesets.amb, nodesets.ia, nodesets.machinery, nodesets.lads],
      serverInfo: { applicationUri: SimulatedInstrument.NAMESPACE, productUri: 'passerelle-opcua-simulator', applicationName: { text: 'Passerelle OPC UA instrument simulator' } },
      buildInfo: { productName: 'Passerelle LADS simulator', manufacturerName: 'Passerelle', softwareVersion: '1.0' },
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep],
      allowAnonymous: this.options.anonymous !== false,
      userManager: { isValidUser: (name: string, password: string) => users[name] !== undefined && users[name] === password },
      serverCertificateManager: pki('server'),
      userCertificateManager: pki('users'),
      disableDiscovery: true,
    });
    await server.initialize().finally(restoreOpensslConf);
    this.server = server;
    this.build(server.engine.addressSpace!);
    await server.start().finally(restoreOpensslConf);
    // The server reads its key again for each client's channel and session: put the variable back after those too.
    for (const event of ['newChannel', 'create_session', 'session_activated'] as const) server.on(event, restoreOpensslConf);
    if (this.options.port === 0) this.options.port = server.endpoints[0].port;
    return this;
  }

  private build(addressSpace: AddressSpace): void {
    this.own = addressSpace.getOwnNamespace();
    this.ladsIndex = addressSpace.getNamespaceIndex(LADS_NAMESPACE);
    const diIndex = addressSpace.getNamespaceIndex(DI_NAMESPACE);
    const own = this.own;

    // Plain variables, with string node ids a technician can type: ns=<own>;s=Plain.Temperature.
    const folder = own.addFolder(addressSpace.rootFolder.objects, { browseName: 'Plain', nodeId: 's=Plain' });
    this.plain.set('Temperature', own.addAnalogDataItem({
      organizedBy: folder, browseName: 'Temperature', nodeId: 's=Plain.Temperature', dataType: 'Double',
      engineeringUnitsRange: { low: -20, high: 100 }, engineeringUnits: makeEUInformation('°C', '°C', 'degree Celsius'),
      value: new Variant({ dataType: DataType.Double, value: 21.5 }),
    }));
    this.plain.set('Status', own.addVariable({ organizedBy: folder, browseName: 'Status', nodeId: 's=Plain.Status', dataType: 'String', value: new Variant({ dataType: DataType.String, value: 'ready' }) }));
    this.plain.set('Counter', own.addVariable({ organizedBy: folder, browseName: 'Counter', nodeId: 's=Plain.Counter', dataType: 'UInt32', value: new Variant({ dataType: DataType.UInt32, value: 0 }) }));

    // The LADS device in the DI DeviceSet: identification, device state, one functional unit with a program manager.
    const deviceSet = addressSpace.findNode(`ns=${diIndex};i=${DI_DEVICE_SET}`) as UAObject;
    const deviceType = addressSpace.findObjectType('LADSDeviceType', this.ladsIndex)!;
    const device = deviceType.instantiate({ browseName: { name: 'Analyser', namespaceIndex: own.index }, nodeId: 's=Analyser', organizedBy: deviceSet, optionals: [] });
    for (const [name, value] of [['Manufacturer', 'Passerelle'], ['Model', 'LADS simulator'], ['SerialNumber', 'SIM-0001'], ['SoftwareRevision', '1.0']] as const) {
      const property = (device.getChildByName('Identification', diIndex) as UAObject).getChildByName(name, diIndex) as UAVariable | null;
      property?.setValueFromSource(name === 'Manufacturer' || name === 'Model'
        ? { dataType: DataType.LocalizedText, value: coerceLocalizedText(value) }
        : { dataType: DataType.String, value });
    }
    this.deviceState = (device.getChildByName('DeviceState', this.ladsIndex) as UAObject).getComponentByName('CurrentState') as UAVariable;
    this.setState(this.deviceState, 'Operate');
    const units = device.getChildByName('FunctionalUnitSet', this.ladsIndex) as UAObject;
    const unitType = addressSpace.findObjectType('FunctionalUnitType', this.ladsIndex)!;
    const unit = unitType.instantiate({ browseName: { name: 'Photometer', namespaceIndex: own.index }, nodeId: 's=Analyser.Photometer', componentOf: units, optionals: ['ProgramManager'] });
    this.unitState = (unit.getChildByName('FunctionalUnitState', this.ladsIndex) as UAObject).getComponentByName('CurrentState') as UAVariable;
    this.setState(this.unitState, 'Stopped');
    const programs = unit.getChildByName('ProgramManager', this.ladsIndex) as UAObject;
    this.resultSet = programs.getChildByName('ResultSet', this.ladsIndex) as UAObject;
    // NodeVersion (optional on ResultSetType): changed at each new result, the standard hint that children changed.
    this.resultSetVersion = own.addVariable({ propertyOf: this.resultSet, browseName: { name: 'NodeVersion', namespaceIndex: 0 }, dataType: 'String', nodeId: 's=Analyser.Photometer.ResultSet.NodeVersion' });
    for (const result of this.results) this.addResultNode(result);
  }

  private setState(variable: UAVariable, state: string): void {
    variable.setValueFromSource({ dataType: DataType.LocalizedText, value: coerceLocalizedText(state) });
  }

  private addResultNode(result: SimulatedResult): void {
    const addressSpace = this.server!.engine.addressSpace!;
    const own = this.own!;
    const lads = this.ladsIndex;
    const resultType = addressSpace.findObjectType('ResultType', lads)!;
    const base = `s=Analyser.Photometer.${result.name}`;
    const node = resultType.instantiate({ browseName: { name: result.name, namespaceIndex: own.index }, nodeId: base, componentOf: this.resultSet!, optionals: ['DeviceProgramRunId'] });
    const set = (name: string, variant: { dataType: DataType; value: unknown; arrayType?: VariantArrayType }) => (node.getChildByName(name, lads) as UAVariable).setValueFromSource(variant);
    const sampleType = addressSpace.findDataType('SampleInfoType', lads)!;
    set('Samples', {
      dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array,
      value: result.samples.map((s) => addressSpace.constructExtensionObject(sampleType, { containerId: s.containerId ?? '', sampleId: s.sampleId, position: s.position ?? '', customData: '' })),
    });
    set('SupervisoryJobId', { dataType: DataType.String, value: result.jobId });
    set('SupervisoryTaskId', { dataType: DataType.String, value: '' });
    set('DeviceProgramRunId', { dataType: DataType.String, value: result.runId });
    set('User', { dataType: DataType.String, value: 'nurse' });
    set('Started', { dataType: DataType.DateTime, value: result.started });
    const variables = node.getChildByName('VariableSet', lads) as UAObject;
    for (const v of result.values) {
      const variant = v.value === null ? new Variant({ dataType: DataType.Null })
        : typeof v.value === 'number' ? new Variant({ dataType: DataType.Double, value: v.value }) : new Variant({ dataType: DataType.String, value: v.value });
      const variable = typeof v.value === 'number' && v.unit
        ? own.addAnalogDataItem({ componentOf: variables, browseName: v.name, nodeId: `${base}.${v.name}`, dataType: 'Double', engineeringUnitsRange: { low: 0, high: 1000 }, engineeringUnits: makeEUInformation(v.unit, v.unit, v.unit) })
        : own.addVariable({ componentOf: variables, browseName: v.name, nodeId: `${base}.${v.name}`, dataType: typeof v.value === 'number' ? 'Double' : 'String' });
      if (v.unit && typeof v.value !== 'number') {
        own.addVariable({ propertyOf: variable, browseName: { name: 'EngineeringUnits', namespaceIndex: 0 }, dataType: 'EUInformation', value: new Variant({ dataType: DataType.ExtensionObject, value: makeEUInformation(v.unit, v.unit, v.unit) }) });
      }
      variable.setValueFromSource(variant, v.status ? (StatusCodes as unknown as Record<string, typeof StatusCodes.Good>)[v.status] : StatusCodes.Good, result.stopped);
    }
    const files = node.getChildByName('FileSet', lads) as UAObject;
    const fileType = addressSpace.findObjectType('ResultFileType', lads)!;
    for (const f of result.files) {
      const file = fileType.instantiate({ browseName: { name: f.name, namespaceIndex: own.index }, componentOf: files, optionals: ['URL'] });
      (file.getChildByName('Name', lads) as UAVariable).setValueFromSource({ dataType: DataType.String, value: f.name });
      (file.getChildByName('MimeType', lads) as UAVariable).setValueFromSource({ dataType: DataType.String, value: f.mimeType });
      (file.getChildByName('URL', lads) as UAVariable).setValueFromSource({ dataType: DataType.String, value: f.url });
    }
    // Stopped last: a result is complete once it has its end time (what the follower waits for).
    set('Stopped', { dataType: DataType.DateTime, value: result.stopped });
    this.resultSetVersion?.setValueFromSource({ dataType: DataType.String, value: String(this.results.indexOf(result) + 1) });
  }

  /** Runs a program and publishes its result: the functional unit runs, the result appears, the unit stops. */
  publishResult(input: { specimenId?: string; values?: SimulatedValue[]; files?: SimulatedFile[] } = {}): SimulatedResult {
    const n = this.results.length + 1;
    const stopped = new Date();
    const result: SimulatedResult = {
      name: `Result-${String(n).padStart(4, '0')}`,
      runId: `RUN-${String(n).padStart(4, '0')}`,
      jobId: `JOB-${n}`,
      samples: [{ sampleId: input.specimenId ?? `SPL${String(1000 + n)}`, containerId: `TUBE-${n}`, position: '1' }],
      values: input.values ?? simulatedValues(n),
      files: input.files ?? [{ name: 'report.pdf', mimeType: 'application/pdf', url: `file:///results/${n}/report.pdf` }],
      started: new Date(stopped.getTime() - 90_000),
      stopped,
    };
    this.setState(this.unitState!, 'Running');
    this.results.push(result);
    this.addResultNode(result);
    this.setState(this.unitState!, 'Stopped');
    return result;
  }

  /** Sets a plain variable (Temperature, Status, Counter), with its source timestamp. */
  setVariable(name: string, value: number | string, sourceTimestamp = new Date()): void {
    const variable = this.plain.get(name);
    if (!variable) throw new Error(`no plain variable ${name}`);
    const dataType = name === 'Counter' ? DataType.UInt32 : typeof value === 'number' ? DataType.Double : DataType.String;
    variable.setValueFromSource(new Variant({ dataType, value }), StatusCodes.Good, sourceTimestamp);
  }

  /** Takes a plain variable out of the address space (a changed configuration). */
  removeVariable(name: string): void {
    const variable = this.plain.get(name);
    if (!variable) throw new Error(`no plain variable ${name}`);
    this.server!.engine.addressSpace!.deleteNode(variable);
    this.plain.delete(name);
  }

  setDeviceState(state: string): void {
    this.setState(this.deviceState!, state);
  }

  /** Publishes a result every `ms` until stopped. */
  every(ms: number): void {
    this.timer = setInterval(() => this.publishResult(), ms);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.server?.shutdown(0).finally(restoreOpensslConf);
    this.server = undefined;
  }
}

/** The `opcua` command: a simulated instrument on a port until stdin closes or says `quit`. */
export async function simulateOpcua(args: Map<string, string>, log: (line: string) => void): Promise<void> {
  const port = Number(args.get('port') ?? 4840);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('--port wants a TCP port');
  const user = args.get('user');
  const instrument = await new SimulatedInstrument({
    port, host: args.get('host') ?? '127.0.0.1', pkiDir: args.get('pki') ?? join(process.cwd(), '.opcua-simulator-pki'),
    users: user ? { [user]: args.get('password') ?? '' } : undefined,
  }).start();
  log(`OPC UA instrument on ${instrument.endpointUrl} (LADS device ns=1;s=Analyser, plain variables ns=1;s=Plain.*)`);
  const every = Number(args.get('every') ?? 0);
  if (every > 0) instrument.every(every);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, ...rest] = line.trim().split(/\s+/);
    try {
      if (command === 'result') log(`result ${instrument.publishResult({ specimenId: rest[0] }).name}`);
      else if (command === 'remove') { instrument.removeVariable(rest[0]); log(`removed ${rest[0]}`); }
      else if (command === 'state') { instrument.setDeviceState(rest[0]); log(`device state ${rest[0]}`); }
      else if (command === 'quit') break;
      else if (command) log('commands: result [specimen id] | remove <variable> | state <state> | quit');
    } catch (err) {
      log((err as Error).message);
    }
  }
  await instrument.stop();
}
