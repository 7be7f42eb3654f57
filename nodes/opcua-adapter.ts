/**
 * The OPC UA adapter, loaded when the first OPC UA node of a flow starts rather than with the
 * palette: node-opcua takes seconds to load and warns at load, and most sites have no OPC UA instrument.
 */
export function opcuaAdapter(): typeof import('../adapters/opcua') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../adapters/opcua');
}
