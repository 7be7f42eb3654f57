/**
 * IEEE EUI-64, the device identity PCD-01 writes in OBX-18: 16 upper-case hexadecimal digits.
 * A Bluetooth device address (MAC-48) gives one the usual way, FFFE inserted after the OUI.
 */

/** '00-09-1F-FF-FE-12-34-56', '0009:1FFF:FE12:3456' or '00091fFFFE123456' → '00091FFFFE123456'; undefined if not 8 bytes. */
export function normaliseEui64(text: string): string | undefined {
  const hex = text.replace(/[-:\s]/g, '').toUpperCase();
  return /^[0-9A-F]{16}$/.test(hex) ? hex : undefined;
}

/** A 48-bit address ('00:1C:05:A1:B2:C3') as EUI-64: 001C05FFFEA1B2C3. */
export function eui64FromMac48(address: string): string | undefined {
  const hex = address.replace(/[-:\s]/g, '').toUpperCase();
  return /^[0-9A-F]{12}$/.test(hex) ? `${hex.slice(0, 6)}FFFE${hex.slice(6)}` : undefined;
}
