/**
 * What the LADS follower assumes about a LADS server, in one place. Checked against the OPC
 * Foundation's LADS 1.0.0 nodeset (Opc.Ua.LADS.NodeSet2.xml, 2023-11-30, as shipped in
 * node-opcua-nodesets 2.179): the namespace URIs, the browse names and the DeviceSet's id.
 * VERIFY against a real instrument and against LADS 1.0.1 (the current release, not in that
 * package): see the "verify" list in docs/opcua.md.
 */

/** LADS (OPC 30500-1) and OPC UA DI (OPC 10000-100) namespace URIs. */
export const LADS_NAMESPACE = 'http://opcfoundation.org/UA/LADS/';
export const DI_NAMESPACE = 'http://opcfoundation.org/UA/DI/';
/** DI's DeviceSet object (numeric id in the DI namespace) where devices are found. */
export const DI_DEVICE_SET = 5001;

/** Browse names (LADS namespace unless said) along the path device → result. */
export const LADS = {
  functionalUnitSet: 'FunctionalUnitSet',
  deviceState: 'DeviceState',
  functionalUnitState: 'FunctionalUnitState',
  programManager: 'ProgramManager',
  activeProgram: 'ActiveProgram',
  resultSet: 'ResultSet',
  /** ActiveProgram's run id (optional on ActiveProgramType). */
  deviceProgramRunId: 'DeviceProgramRunId',
  /** ResultType members. */
  result: {
    samples: 'Samples',
    started: 'Started',
    stopped: 'Stopped',
    supervisoryJobId: 'SupervisoryJobId',
    supervisoryTaskId: 'SupervisoryTaskId',
    deviceProgramRunId: 'DeviceProgramRunId',
    user: 'User',
    variableSet: 'VariableSet',
    fileSet: 'FileSet',
  },
  /** ResultFileType members. */
  file: { name: 'Name', mimeType: 'MimeType', url: 'URL', file: 'File' },
  /** SampleInfoType fields (ContainerId, SampleId, Position, CustomData), as node-opcua decodes them. */
  sample: { sampleId: 'sampleId', containerId: 'containerId', position: 'position', customData: 'customData' },
} as const;

/** The device's identification object (DI namespace; a Machinery MachineIdentificationType in LADS). */
export const IDENTIFICATION = 'Identification';
/** DI identification properties read from the device or its Identification object (DI namespace). */
export const DI_IDENTIFICATION = { manufacturer: 'Manufacturer', model: 'Model', serial: 'SerialNumber', softwareVersion: 'SoftwareRevision' } as const;

/** The state machines' CurrentState variable (namespace 0). */
export const CURRENT_STATE = 'CurrentState';
/**
 * The optional NodeVersion property (namespace 0) of a ResultSet: OPC UA's way of saying that a
 * node's children changed (Part 3 §5.5.3). Watched when the server has it; the follower also
 * reads the ResultSet when a functional unit changes state and every poll interval.
 */
export const NODE_VERSION = 'NodeVersion';
/** A variable's engineering units property (namespace 0, EUInformation). */
export const ENGINEERING_UNITS = 'EngineeringUnits';
