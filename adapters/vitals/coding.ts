/**
 * The vital-sign coding table (coding.json, data not code): each quantity's IEEE 11073 MDC code
 * and unit code, LOINC, UCUM unit, accepted units with their conversion, physiological bounds and
 * the device profile it belongs to. See docs/vitals.md.
 */
import table from './coding.json';
import type { Code } from '../model';

export interface MdcTerm {
  code: string;
  refId: string;
}

export interface Conversion {
  /** canonical = (value + offset) * factor */
  factor: number;
  offset?: number;
}

export interface Quantity {
  id: string;
  display: string;
  mdc: MdcTerm;
  loinc: { code: string; display: string };
  /** The UCUM unit the hub publishes. */
  unit: string;
  mdcUnit: MdcTerm;
  accepts?: Record<string, Conversion>;
  decimals: number;
  bounds: { low: number; high: number };
  profile: string;
  compound?: string;
}

export interface TemperatureSite {
  mdc?: MdcTerm;
  site: { code: string; display: string };
}

const quantities = new Map<string, Quantity>(
  Object.entries(table.quantities).map(([id, q]) => [id, { id, ...q } as Quantity]),
);
const byMdc = new Map<string, Quantity>([...quantities.values()].map((q) => [q.mdc.code, q]));
const temperatureSites = table.temperatureSites as Record<string, TemperatureSite>;
// The site-specific MDC temperature codes also name body temperature.
for (const site of Object.values(temperatureSites)) {
  if (site.mdc) byMdc.set(site.mdc.code, quantities.get('body-temperature')!);
}

export function quantity(id: string): Quantity | undefined {
  return quantities.get(id);
}

export function quantityIds(): string[] {
  return [...quantities.keys()];
}

/** The quantity an MDC code names ('150456', or a site-specific temperature such as 188452). */
export function quantityByMdc(code: string): Quantity | undefined {
  return byMdc.get(code);
}

/** The quantity for a LOINC code and UCUM unit (several share 8867-4: the oximeter's pulse rate is taken). */
export function quantityByLoinc(code: string): Quantity | undefined {
  return [...quantities.values()].find((q) => q.loinc.code === code) ?? (code === '41653-7' ? quantities.get('capillary-glucose') : undefined);
}

export function temperatureSite(name: string): TemperatureSite | undefined {
  return temperatureSites[name];
}

/** The temperature site whose MDC code this is (188452 → axillary). */
export function temperatureSiteByMdc(code: string): [string, TemperatureSite] | undefined {
  return Object.entries(temperatureSites).find(([, s]) => s.mdc?.code === code);
}

export function bodySite(name: string): { code: string; display: string } | undefined {
  return (table.bodySites as Record<string, { code: string; display: string }>)[name];
}

export function compound(id: string): { mdc: MdcTerm; loinc: { code: string; display: string } } | undefined {
  return (table.compounds as Record<string, { mdc: MdcTerm; loinc: { code: string; display: string } }>)[id];
}

/** The MDC device specialisation (or MDS) code of a profile: 'blood-pressure' → 528391. */
export function profileTerm(profile: string): MdcTerm {
  return (table.profiles as Record<string, MdcTerm>)[profile] ?? table.profiles.monitor;
}

/** A sender's spelling of a unit as UCUM ('mmHg' → 'mm[Hg]', '°C' → 'Cel'), or undefined. */
export function ucumUnit(spelling: string): string | undefined {
  return (table.unitSpellings as Record<string, string>)[spelling.trim()];
}

export function mdcCode(term: MdcTerm): Code {
  return { code: term.code, display: term.refId, system: 'MDC' };
}

export const MDC_SYSTEM_URI = 'urn:iso:std:iso:11073:10101';
