/**
 * Device unit spellings → UCUM. Only spellings of the same unit: a value is never converted, so
 * a unit is never replaced by a different one. Profiles add their own.
 */
export const COMMON_UNITS: Readonly<Record<string, string>> = Object.freeze({
  '%': '%',
  'g/dL': 'g/dL', 'g/dl': 'g/dL',
  'g/L': 'g/L', 'g/l': 'g/L',
  'mg/L': 'mg/L', 'mg/l': 'mg/L',
  'mg/dL': 'mg/dL', 'mg/dl': 'mg/dL',
  'mg/g': 'mg/g',
  'mmol/L': 'mmol/L', 'mmol/l': 'mmol/L',
  'umol/L': 'umol/L', 'umol/l': 'umol/L', 'µmol/L': 'umol/L', 'µmol/l': 'umol/L',
  'mmol/mol': 'mmol/mol',
  'U/L': 'U/L', 'U/l': 'U/L', 'IU/L': '[IU]/L', 'UI/L': '[IU]/L',
  'fL': 'fL', 'fl': 'fL', 'um3': 'fL', 'µm3': 'fL', 'µm³': 'fL',
  'pg': 'pg',
  '10*3/uL': '10*3/uL', '10E3/uL': '10*3/uL', '10^3/uL': '10*3/uL', '10*3/µL': '10*3/uL',
  '10*6/uL': '10*6/uL', '10E6/uL': '10*6/uL', '10^6/uL': '10*6/uL', '10*6/µL': '10*6/uL',
  '10*9/L': '10*9/L', 'G/L': '10*9/L',
  '10*12/L': '10*12/L', 'T/L': '10*12/L',
  'ng/mL': 'ng/mL', 'ng/ml': 'ng/mL',
});

/** The UCUM code for a device's unit text, or undefined when it is not a known spelling. */
export function toUcum(deviceUnit: string, profileUnits: Readonly<Record<string, string>>): string | undefined {
  return profileUnits[deviceUnit] ?? COMMON_UNITS[deviceUnit];
}
