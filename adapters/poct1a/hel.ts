/**
 * HEL.R01, the device's hello: who it is (DEV) and what it can do (DSC capabilities, DCP
 * connection settings). The manager answers ACK and reads nothing else into it.
 */
import { Poct1MessageError } from './errors';
import { messageElement } from './hdr';
import { child, childrenNamed, element, valueElement, valueOf, type XmlElement } from './xml';

export interface DeviceCapabilities {
  /** DSC.connection_profile_cd: SA (send and acknowledge), CS (continuous)… */
  connectionProfile?: string;
  /** DSC.topics_supported_cd, one per element: OBS, OPL, DTV… */
  topicsSupported: string[];
  /** DSC.directives_supported_cd. */
  directivesSupported: string[];
  /** DSC.max_message_sz: the largest message the device accepts, in bytes. */
  maxMessageSize?: number;
  /** DCP.application_timeout, in seconds. */
  applicationTimeoutS?: number;
}

export interface DeviceIdentity {
  /** DEV.device_id: the device's own unique id (often its MAC address or vendor^model^serial). */
  deviceId?: string;
  vendorId?: string;
  modelId?: string;
  serialId?: string;
  manufacturerName?: string;
  deviceName?: string;
  hardwareVersion?: string;
  softwareVersion?: string;
  capabilities: DeviceCapabilities;
}

export function readHel(root: XmlElement): DeviceIdentity {
  const dev = child(root, 'DEV');
  if (!dev) throw new Poct1MessageError('HEL.R01 has no DEV');
  // DSC and DCP sit inside DEV in POCT1-A2; some devices put them beside it.
  const dsc = child(dev, 'DSC') ?? child(root, 'DSC');
  const dcp = child(dev, 'DCP') ?? child(root, 'DCP');
  return {
    deviceId: valueOf(dev, 'DEV.device_id'),
    vendorId: valueOf(dev, 'DEV.vendor_id'),
    modelId: valueOf(dev, 'DEV.model_id'),
    serialId: valueOf(dev, 'DEV.serial_id'),
    manufacturerName: valueOf(dev, 'DEV.manufacturer_name'),
    deviceName: valueOf(dev, 'DEV.device_name'),
    hardwareVersion: valueOf(dev, 'DEV.hw_version'),
    softwareVersion: valueOf(dev, 'DEV.sw_version'),
    capabilities: {
      connectionProfile: valueOf(dsc, 'DSC.connection_profile_cd'),
      topicsSupported: values(childrenNamed(dsc, 'DSC.topics_supported_cd')),
      directivesSupported: values(childrenNamed(dsc, 'DSC.directives_supported_cd')),
      maxMessageSize: integerOrUndefined(valueOf(dsc, 'DSC.max_message_sz')),
      applicationTimeoutS: integerOrUndefined(valueOf(dcp, 'DCP.application_timeout')),
    },
  };
}

export function buildHel(controlId: string, creationTime: string, identity: DeviceIdentity): XmlElement {
  const caps = identity.capabilities;
  return messageElement('HEL.R01', controlId, creationTime, [
    element('DEV', {}, [
      valueElement('DEV.device_id', identity.deviceId),
      valueElement('DEV.vendor_id', identity.vendorId),
      valueElement('DEV.model_id', identity.modelId),
      valueElement('DEV.serial_id', identity.serialId),
      valueElement('DEV.manufacturer_name', identity.manufacturerName),
      valueElement('DEV.hw_version', identity.hardwareVersion),
      valueElement('DEV.sw_version', identity.softwareVersion),
      valueElement('DEV.device_name', identity.deviceName),
      caps.applicationTimeoutS === undefined ? undefined : element('DCP', {}, [valueElement('DCP.application_timeout', caps.applicationTimeoutS)]),
      element('DSC', {}, [
        valueElement('DSC.connection_profile_cd', caps.connectionProfile),
        ...caps.topicsSupported.map((t) => valueElement('DSC.topics_supported_cd', t)),
        ...caps.directivesSupported.map((d) => valueElement('DSC.directives_supported_cd', d)),
        valueElement('DSC.max_message_sz', caps.maxMessageSize),
      ]),
    ]),
  ]);
}

function values(elements: XmlElement[]): string[] {
  return elements.map((e) => e.attributes.V).filter((v): v is string => v !== undefined && v !== '');
}

/** A non-negative integer written in V, or undefined (capabilities are informative: no error for a bad one). */
function integerOrUndefined(value: string | undefined): number | undefined {
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}
