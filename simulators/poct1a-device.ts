/**
 * A simulated POCT1-A device (an HbA1c analyser) that connects to the hub's "POCT1-A in" node and
 * plays one conversation: HEL, DST, REQ ROBS, N patient OBS.R01 and M QC OBS.R02, EOT, END.
 * It prints what it sends and receives.
 *
 *   node dist/simulators/poct1a-device.js --port 2580 [--host 127.0.0.1] [--patients 2] [--qc 1]
 */
import { parseArgs } from 'node:util';
import { formatTimestamp, sampleObservations, SimulatedDevice, DEFAULT_DEVICE_IDENTITY, type Poct1Message, type SimulatedObservations } from '../adapters/poct1a';

export interface Poct1aSimulationOptions {
  host: string;
  port: number;
  patients: number;
  qc: number;
}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 10_000) throw new Error(`--${name} ${value}: expected a whole number from 0 to 10000`);
  return n;
}

export function parsePoct1aArguments(argv: string[]): Poct1aSimulationOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '2580' },
      patients: { type: 'string' },
      qc: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port ${values.port}: expected a port from 1 to 65535`);
  return { host: values.host ?? '127.0.0.1', port, patients: count(values.patients, 'patients', 2), qc: count(values.qc, 'qc', 1) };
}

/** `patients` HbA1c patient messages and `qc` liquid QC messages, observed in the last minutes. */
export function simulatedObservations(patients: number, qc: number, at = Date.now()): SimulatedObservations[] {
  const [patientTemplate, , qcTemplate] = sampleObservations(at);
  const out: SimulatedObservations[] = [];
  const total = patients + qc;
  const time = (i: number) => formatTimestamp(at - (total - i) * 60_000);
  for (let i = 0; i < patients; i++) {
    const service = patientTemplate.services[0];
    const hba1c = (5 + ((i * 7) % 30) / 10).toFixed(1); // 5.0 … 7.9 %
    const ifcc = String(Math.round((Number(hba1c) - 2.15) * 10.929)); // the IFCC–NGSP master equation
    out.push({
      messageType: 'OBS.R01',
      services: [{
        ...service,
        observationTime: time(i),
        patient: { id: `SIM-PAT-${String(i + 1).padStart(3, '0')}` },
        observations: [
          { ...service.observations[0], value: { value: hba1c, units: '%' }, interpretation: Number(hba1c) > 6 ? 'H' : 'N' },
          { ...service.observations[1], value: { value: ifcc, units: 'mmol/mol' } },
        ],
      }],
    });
  }
  for (let i = 0; i < qc; i++) out.push({ ...qcTemplate, services: [{ ...qcTemplate.services[0], observationTime: time(patients + i) }] });
  return out;
}

function describe(message: Poct1Message): string {
  switch (message.type) {
    case 'ACK.R01': return `ACK ${message.ack.type} of ${message.ack.ackControlId}${message.ack.note ? ` (${message.ack.note})` : ''}`;
    case 'REQ.R01': return `REQ ${message.request} (control id ${message.header.controlId})`;
    default: return `${message.type} (control id ${message.header.controlId})`;
  }
}

/** Plays one conversation with the hub and prints it; rejects when the hub cannot be reached or does not answer. */
export async function simulatePoct1a(argv: string[]): Promise<void> {
  const options = parsePoct1aArguments(argv);
  const observations = simulatedObservations(options.patients, options.qc);
  console.log(`simulated POCT1-A device ${DEFAULT_DEVICE_IDENTITY.deviceId} → ${options.host}:${options.port}: ${options.patients} patient result(s), ${options.qc} QC`);
  const device = new SimulatedDevice({ host: options.host, port: options.port, observations });
  device.on('message', (message: Poct1Message) => console.log(`  ← ${describe(message)}`));
  device.on('documentError', (err: Error) => console.log(`  ← unreadable bytes: ${err.message}`));
  const report = await device.run();
  console.log('conversation:');
  for (const e of report.exchanges) console.log(`  → ${e.type} ${e.controlId}  ACK ${e.ack.type}${e.ack.note ? ` (${e.ack.note})` : ''}`);
  console.log(report.ended ? 'ended: the hub sent END and the device acknowledged it' : 'closed without END');
  const refused = report.exchanges.filter((e) => e.ack.type !== 'AA').length;
  if (refused > 0) console.log(`${refused} message(s) not accepted (AE): the device would keep them and send them again`);
}

if (require.main === module) {
  simulatePoct1a(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`poct1a simulator: ${(err as Error).message}`);
    process.exit(2);
  });
}
