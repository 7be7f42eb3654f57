/**
 * PCD-01 both ways for vitals: the coding the ORU builder needs (device profile rows, the NIBP
 * compound), and a PCD-01 ORU read from a device gateway → canonical vitals.
 */
import { parseAstmDate } from '../astm/mapping/time';
import type { Pcd01Coding, Pcd01Reading, Pcd01Row } from '../hl7';
import type { Code, Observation, Result } from '../model';
import { compound, mdcCode, profileTerm, quantityByMdc, quantityIds, quantity } from './coding';
import { FUTURE_TOLERANCE_MS, InvalidVitalsError } from './contract';
import { normaliseEui64 } from './eui64';
import { toObservation, type MeasurementInput } from './measurement';
import { unmatchedPatient, vitalsResult, type VitalsContext } from './result';

export const pcd01Coding: Pcd01Coding = {
  profileOf: (o: Observation): Code => {
    const q = o.mdc ? quantityByMdc(o.mdc.code.code) : undefined;
    return mdcCode(profileTerm(q?.profile ?? 'monitor'));
  },
  compoundOf: (o: Observation): Code | undefined => {
    const q = o.mdc ? quantityByMdc(o.mdc.code.code) : undefined;
    const c = q?.compound ? compound(q.compound) : undefined;
    return c ? mdcCode(c.mdc) : undefined;
  },
};

// MDC unit code → the UCUM unit of the table (264864 → /min).
const UCUM_BY_MDC_UNIT = new Map(quantityIds().map((id) => [quantity(id)!.mdcUnit.code, quantity(id)!.unit]));

export interface Pcd01Context extends Omit<VitalsContext, 'deviceClass' | 'protocol'> {
  timeZone: string;
  now?: Date;
}

/** Numeric rows become observations; MDS, VMD and channel rows (no value) only carry containment. */
export function pcd01ToResult(reading: Pcd01Reading, context: Pcd01Context): Result {
  const problems: string[] = [];
  const measurements: MeasurementInput[] = [];
  const latest = (context.now ?? new Date()).getTime() + FUTURE_TOLERANCE_MS;
  reading.rows.forEach((row, i) => {
    if (row.valueType !== 'NM' || row.value === undefined) return;
    const where = `OBX ${i + 1} (${row.code.code})`;
    const value = Number(row.value);
    if (!Number.isFinite(value)) return problems.push(`${where}: value ${row.value} is not a number`);
    const warnings: string[] = [];
    const written = row.time ?? reading.observedAt;
    if (!written) return problems.push(`${where}: no observation time (OBX-14 or OBR-7)`);
    const time = parseAstmDate(written.replace(/\.\d+/, ''), context.timeZone);
    if (time?.kind !== 'instant') return problems.push(`${where}: time ${written} is not an HL7 date/time`);
    if (!/[+-]\d{4}$/.test(written)) warnings.push(`time ${written} has no offset: read in ${context.timeZone}`);
    if (time.ms > latest) return problems.push(`${where}: time ${written} is in the future (is the gateway's clock right?)`);
    const eui64 = row.equipment ? normaliseEui64(row.equipment) : undefined;
    measurements.push({
      code: row.code,
      value,
      unit: unitOf(row),
      time: time.iso,
      device: eui64 ? { eui64 } : undefined,
      bodySite: row.bodySite,
      method: row.method,
      status: row.status === 'F' || row.status === 'R' || row.status === 'P' || row.status === 'C' ? 'F' : undefined,
      warnings,
    });
    return undefined;
  });
  if (problems.length > 0) throw new InvalidVitalsError(problems);
  if (measurements.length === 0) throw new InvalidVitalsError(['no numeric observation (OBX-2 NM with a value) in the message']);
  const id = `pcd01.${token(reading.sendingApplication || 'gateway')}.${token(reading.controlId || 'no-control-id')}`;
  return vitalsResult(
    { id, patient: reading.patient ?? unmatchedPatient(), encounter: reading.encounter, observations: measurements.map(toObservation) },
    { ...context, deviceClass: 'device-gateway', protocol: 'hl7' },
  );
}

/** OBX-6: an MDC unit code gives its UCUM unit; a UCUM unit is taken as is; anything else stays as written. */
function unitOf(row: Pcd01Row): string | undefined {
  if (!row.unit) return undefined;
  const system = row.unit.system?.toUpperCase();
  if (system === 'MDC') return UCUM_BY_MDC_UNIT.get(row.unit.code) ?? row.unit.display ?? row.unit.code;
  return row.unit.code;
}

function token(text: string): string {
  return text.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 60);
}
