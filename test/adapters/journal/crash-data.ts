/** What crash-writer writes for the n-th result, so that crash.test can check it byte for byte. */
export interface Written {
  n: number;
  inboundId: string;
  outboundId: number;
  controlId: string;
}

export const rawOf = (n: number): Buffer => Buffer.from(`raw-${n}-${'x'.repeat(n % 700)}\u0000\u00ff`, 'latin1');

export const payloadOf = (n: number, controlId: string): Buffer => Buffer.from(`MSH|^~\\&|||||||ORU^R01|${controlId}|P|2.5\rOBX|${n}\r`);
