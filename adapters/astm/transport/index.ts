/** ASTM transports: TCP listening (the standard), TCP connecting out, and serial. Each keeps its line up by itself. */
export * from './types';
export { TcpListenTransport, type TcpListenOptions } from './tcp-listen';
export { TcpConnectTransport, type TcpConnectOptions } from './tcp-connect';
export {
  SerialTransport, openSerialPort, checkSerialSettings, SERIAL_BAUD_RATES,
  type SerialOptions, type SerialLineSettings, type Parity, type FlowControl,
} from './serial';
