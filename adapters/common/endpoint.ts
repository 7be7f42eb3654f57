/** "host:port" as typed by a technician (or given by ${EHR_MLLP}) → its parts, or a clear error. */
export function parseEndpoint(value: string | undefined): { host: string; port: number } {
  const text = (value ?? '').trim();
  if (text === '') throw new Error('no endpoint given (host:port)');
  const match = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`"${text}" is not host:port`);
  return { host: match[1], port };
}
