/**
 * Device simulators: `npm run simulate -- <protocol> [options]`.
 *
 *   astm --tcp host:port | --serial <path> [--baud 9600 --data-bits 8 --parity none --stop-bits 1 --flow none]
 *        --file <capture> | --generate N   [--every ms]
 *   cart --mqtt mqtt://host:port [--site demo-site --cart chariot-tlc-1 --count N --every ms] [--fhir | --ble <gateway>] [--photo <file>]
 *   poct1a --port N [--host …]
 *   opcua --port 4840 [--host 127.0.0.1 --every ms --user U --password P --pki <dir>]   (stdin: result [specimen], remove <variable>, state <state>, quit)
 *   modality --port 11112 [--host … --aet CT01 --called PASSERELLE --modality CT --date YYYYMMDD --images N | --files a.dcm,b.dcm --discontinue --no-mpps]
 *
 * Each protocol is one entry of COMMANDS (a parser of its options and a runner). The pieces are exported for the tests.
 */
import { runAstm, type AstmCommandOptions } from './astm';
import { simulatePoct1a } from './poct1a-device';
import { runCart, type CartSimulationOptions } from './cart';
import { simulateModality } from './modality';
import { simulateOpcua } from './opcua';
import type { FlowControl, Parity } from '../adapters/astm/transport';

export * from './astm';

/** `--name value` options and `--flag` switches, after the subcommand. */
export function parseOptions(args: string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      options.set(arg.slice(2), next);
      i += 1;
    } else {
      options.set(arg.slice(2), 'true');
    }
  }
  return options;
}

function numberOption(options: Map<string, string>, name: string): number | undefined {
  const value = options.get(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} wants a number, not ${value}`);
  return n;
}

export function astmOptions(args: string[]): AstmCommandOptions {
  const o = parseOptions(args);
  return {
    tcp: o.get('tcp'),
    serial: o.get('serial'),
    file: o.get('file'),
    generate: numberOption(o, 'generate'),
    everyMs: numberOption(o, 'every'),
    serialSettings: {
      baudRate: numberOption(o, 'baud'),
      dataBits: numberOption(o, 'data-bits') as 5 | 6 | 7 | 8 | undefined,
      parity: o.get('parity') as Parity | undefined,
      stopBits: numberOption(o, 'stop-bits') as 1 | 1.5 | 2 | undefined,
      flowControl: o.get('flow') as FlowControl | undefined,
    },
  };
}

export function cartOptions(args: string[]): CartSimulationOptions {
  const o = parseOptions(args);
  const mqtt = o.get('mqtt');
  if (!mqtt) throw new Error('--mqtt mqtt://host:port is required (the hub\'s broker)');
  return {
    mqtt,
    site: o.get('site') ?? 'demo-site',
    cart: o.get('cart') ?? 'chariot-tlc-1',
    count: numberOption(o, 'count') ?? 1,
    everyMs: numberOption(o, 'every') ?? 0,
    fhir: o.has('fhir'),
    bleGateway: o.get('ble'),
    photo: o.get('photo'),
    photoDevice: o.get('device') as CartSimulationOptions['photoDevice'],
    region: o.get('region'),
    laterality: o.get('laterality') as CartSimulationOptions['laterality'],
    username: o.get('username'),
    password: o.get('password'),
  };
}

export interface SimulatorCommand {
  usage: string;
  run(args: string[]): Promise<number>;
}

export const COMMANDS: Record<string, SimulatorCommand> = {
  astm: {
    usage: 'astm (--tcp host:port | --serial <path> [--baud N --data-bits N --parity none|even|odd --stop-bits 1|2 --flow none|rtscts|xon]) (--file <capture> | --generate N) [--every ms]',
    run: async (args) => {
      const outcome = await runAstm(astmOptions(args));
      return outcome.failed.length === 0 ? 0 : 1;
    },
  },
  modality: {
    usage: 'modality --port N [--host 127.0.0.1 --aet MODALITY --called PASSERELLE --modality CT --date YYYYMMDD --images 2 | --files a.dcm,b.dcm --discontinue --no-mpps]   (worklist, MPPS, images, MPPS)',
    run: simulateModality,
  },
  cart: {
    usage: 'cart --mqtt mqtt://host:port [--site demo-site --cart chariot-tlc-1 --count N --every ms --username U --password P] [--fhir | --ble <gateway>] [--photo <file.jpg|file.pdf> --device otoscope|dermatoscope|camera --region tympanic-membrane --laterality left|right]   (a telemedicine cart\'s vitals, and a photo or report)',
    run: async (args) => {
      await runCart(cartOptions(args), (line) => console.log(line));
      return 0;
    },
  },
  opcua: {
    usage: 'opcua --port N [--host 127.0.0.1 --every ms --user U --password P --pki <dir>]   (a LADS instrument on OPC UA; stdin: result [specimen id] | remove <variable> | state <state> | quit)',
    run: async (args) => {
      await simulateOpcua(parseOptions(args), (line) => console.log(line));
      return 0;
    },
  },
  poct1a: {
    usage: 'poct1a --port N [--host 127.0.0.1 --patients N --qc N]   (a POCT1-A device: HEL, DST, OBS on request, EOT)',
    run: async (args) => {
      await simulatePoct1a(args);
      return 0;
    },
  },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`usage: simulate <protocol> [options]\n${Object.values(COMMANDS).map((c) => `  ${c.usage}`).join('\n')}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
