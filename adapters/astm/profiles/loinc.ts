/**
 * LOINC check digits (mod 10, the Luhn scheme LOINC documents): a mistyped code in a mapping
 * table is caught when the profile loads, not in a patient's record. Devices get them wrong too:
 * one real capture sends `789-9` for the red cell count (the code is 789-8).
 */
export function loincCheckDigit(number: string): number {
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let digit = number.charCodeAt(number.length - 1 - i) - 0x30;
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

/** `4548-4` → true; `789-9` → false. */
export function isValidLoinc(code: string): boolean {
  const match = /^(\d{1,7})-(\d)$/.exec(code);
  return match !== null && loincCheckDigit(match[1]) === Number(match[2]);
}
