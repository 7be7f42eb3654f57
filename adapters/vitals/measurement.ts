/**
 * One measurement, however it came (cart JSON, FHIR, PCD-01, BLE), → one canonical observation:
 * coded from the table (LOINC, MDC code and unit), converted to the table's unit, checked against
 * physiological bounds. What the hub cannot code is kept as sent and said in `warnings`; a value
 * out of bounds is kept as it is and said too — never dropped, never "fixed".
 */
import type { Code, Observation, ObservationStatus, ObservingDevice } from '../model';
import { bodySite as namedBodySite, mdcCode, quantity as tableQuantity, quantityByLoinc, quantityByMdc, temperatureSite, temperatureSiteByMdc, ucumUnit, type Quantity } from './coding';

/** Our contract's quantity names as a local code system (HL7 table 0396: 99zzz is local). */
export const CONTRACT_SYSTEM = '99PSL';

export interface MeasurementInput {
  /** A quantity of the table ('nibp-systolic'), when the sender names it so. */
  quantity?: string;
  /** The sender's own code (MDC, LN or its own): kept as the observation's device code. */
  code?: Code;
  /** undefined: the device sent no value (NaN, NRes, out of its range: say why in `warnings`). */
  value?: number;
  unit?: string;
  /** RFC 3339 with its offset. */
  time: string;
  device?: ObservingDevice;
  /** A name of the table ('left-arm', 'tympanic'...) or a code (SNOMED CT). */
  bodySite?: string | Code;
  method?: Code;
  status?: ObservationStatus;
  operator?: { id?: string; name?: string };
  /** What the decoder already noticed (a device status bit, a special value). */
  warnings?: string[];
}

/** The quantity a measurement names, by our name, its MDC code or its LOINC code. */
export function resolveQuantity(m: Pick<MeasurementInput, 'quantity' | 'code'>): Quantity | undefined {
  const named = m.quantity === undefined ? undefined : tableQuantity(m.quantity);
  if (named || !m.code) return named;
  const system = m.code?.system?.toUpperCase();
  if (system === 'MDC' || system === 'URN:ISO:STD:ISO:11073:10101') return quantityByMdc(m.code!.code);
  if (system === 'LN' || system === 'LOINC' || system === 'HTTP://LOINC.ORG') return quantityByLoinc(m.code!.code);
  return undefined;
}

export function toObservation(m: MeasurementInput): Observation {
  const warnings = [...(m.warnings ?? [])];
  const q = resolveQuantity(m);
  const deviceCode = m.code ?? { code: m.quantity ?? 'unknown', system: CONTRACT_SYSTEM };
  const observation: Observation = {
    deviceCode,
    valueType: 'NM',
    status: m.status ?? (m.value === undefined ? 'X' : 'F'),
    observedAt: m.time,
  };
  if (m.value !== undefined) observation.value = m.value;
  if (!q) {
    warnings.push(`unknown quantity ${deviceCode.code}${deviceCode.system ? ` (${deviceCode.system})` : ''}: kept with the sender's code`);
    observation.unmapped = true;
    if (m.unit) observation.unit = ucumUnit(m.unit) ? { code: ucumUnit(m.unit)!, system: 'UCUM' } : { code: m.unit };
  } else {
    observation.code = { code: q.loinc.code, system: 'LN', display: q.loinc.display };
    const site = siteOf(q, m);
    observation.mdc = { code: mdcCode(site.mdc ?? q.mdc) };
    if (site.code) observation.bodySite = site.code;
    if (m.unit === undefined) {
      warnings.push(`no unit sent for ${q.id}: kept without one`);
    } else {
      const unit = ucumUnit(m.unit);
      const conversion = unit === undefined || unit === q.unit ? undefined : q.accepts?.[unit];
      if (unit === q.unit) {
        observation.unit = { code: q.unit, system: 'UCUM' };
        observation.mdc.unit = mdcCode(q.mdcUnit);
      } else if (conversion) {
        observation.unit = { code: q.unit, system: 'UCUM' };
        observation.mdc.unit = mdcCode(q.mdcUnit);
        if (m.value !== undefined) {
          const scale = 10 ** q.decimals;
          observation.value = Math.round((m.value + (conversion.offset ?? 0)) * conversion.factor * scale) / scale;
          warnings.push(`converted from ${m.value} ${m.unit}`);
        }
      } else {
        observation.unit = { code: m.unit };
        warnings.push(`unit ${m.unit} is not known for ${q.id}: kept as sent, not converted`);
      }
    }
    if (typeof observation.value === 'number' && observation.unit?.code === q.unit) {
      const v = observation.value;
      if (v < q.bounds.low) warnings.push(`out of physiological bounds: ${v} ${q.unit} is below ${q.bounds.low}`);
      if (v > q.bounds.high) warnings.push(`out of physiological bounds: ${v} ${q.unit} is above ${q.bounds.high}`);
    }
  }
  if (!observation.bodySite && m.bodySite !== undefined) {
    const site = typeof m.bodySite === 'string' ? namedSite(m.bodySite) : m.bodySite;
    if (site) observation.bodySite = site;
    else warnings.push(`body site ${String(m.bodySite)} is not known: not written`);
  }
  if (m.method) observation.method = m.method;
  if (m.operator) observation.operator = m.operator;
  if (m.device && Object.keys(m.device).length > 0) {
    observation.device = m.device;
    if (m.device.eui64) observation.equipmentId = m.device.eui64;
  }
  if (warnings.length > 0) observation.warnings = warnings;
  return observation;
}

/** A temperature's site picks its MDC code (MDC_TEMP_TYMP...) and its SNOMED CT body site. */
function siteOf(q: Quantity, m: MeasurementInput): { mdc?: { code: string; refId: string }; code?: Code } {
  if (q.id !== 'body-temperature') return {};
  if (typeof m.bodySite === 'string' && temperatureSite(m.bodySite)) {
    const site = temperatureSite(m.bodySite)!;
    return { mdc: site.mdc, code: { ...site.site, system: 'SCT' } };
  }
  const fromCode = m.code?.system?.toUpperCase() === 'MDC' ? temperatureSiteByMdc(m.code.code) : undefined;
  return fromCode ? { mdc: fromCode[1].mdc, code: { ...fromCode[1].site, system: 'SCT' } } : {};
}

function namedSite(name: string): Code | undefined {
  const site = namedBodySite(name) ?? temperatureSite(name)?.site;
  return site ? { ...site, system: 'SCT' } : undefined;
}
