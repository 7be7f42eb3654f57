import { expect } from 'chai';
import { decodeMessage, encodeMessage, toHl7Charset } from '../../../adapters/hl7';

const header = (msh18: string) => `MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.5||||||${msh18}\rPID|1||1||`;

describe('hl7 charsets at the MLLP boundary', () => {
  describe('encodeMessage', () => {
    it('writes UTF-8 as is', () => {
      const { bytes, replaced } = encodeMessage('NOËL^Hélène^Françoise CŒURDEROY', 'UNICODE UTF-8');
      expect(bytes.toString('utf8')).to.equal('NOËL^Hélène^Françoise CŒURDEROY');
      expect(replaced).to.equal(0);
    });

    it('counts a lone surrogate, which UTF-8 cannot hold, as replaced', () => {
      const { bytes, replaced } = encodeMessage('a\uD800b', 'UNICODE UTF-8');
      expect(replaced).to.equal(1);
      expect(bytes.toString('utf8')).to.equal('a\uFFFDb');
    });

    it('writes Latin-1 bytes for 8859/1, accents kept', () => {
      const { bytes, replaced } = encodeMessage('NOËL Hélène Françoise Anaïs LEFÈVRE µ°±', '8859/1');
      expect(bytes.equals(Buffer.from('NOËL Hélène Françoise Anaïs LEFÈVRE µ°±', 'latin1'))).to.equal(true);
      expect(bytes).to.have.length(39); // one byte per character
      expect(replaced).to.equal(0);
    });

    it('transliterates what Latin-1 lacks and counts it', () => {
      const cases: Array<[string, string]> = [
        ['CŒURDEROY', 'COEURDEROY'], ['Bœuf', 'Boeuf'], ['l’hôpital', "l'hôpital"], ['‘a’', "'a'"],
        ['“dit”', '"dit"'], ['9–12', '9-12'], ['a — b', 'a - b'], ['12 €', '12 EUR'], ['suite…', 'suite...'],
        ['Taux\u202f:', 'Taux :'], ['Ÿvette', 'Yvette'], ['Štěpán', 'Stepán'], ['Łódź', 'Lódz'], ['μmol/L', 'µmol/L'],
      ];
      for (const [text, expected] of cases) {
        const { bytes, replaced } = encodeMessage(text, '8859/1');
        expect(bytes.toString('latin1'), text).to.equal(expected);
        expect(replaced, text).to.be.greaterThan(0);
      }
      expect(encodeMessage('CŒURDEROY Bœuf — 5 €', '8859/1').replaced).to.equal(4);
    });

    it('composes decomposed accents before writing Latin-1 (not a replacement)', () => {
      const { bytes, replaced } = encodeMessage('He\u0301le\u0300ne', '8859/1');
      expect(bytes.toString('latin1')).to.equal('Hélène');
      expect(replaced).to.equal(0);
    });

    it("writes '?' for what has no Latin-1 likeness, and says so", () => {
      const { bytes, replaced, unmappable } = encodeMessage('王 😀 ok', '8859/1');
      expect(bytes.toString('latin1')).to.equal('? ? ok');
      expect(replaced).to.equal(2);
      expect(unmappable).to.equal(2);
    });

    it('never writes an HL7 delimiter for a transliterated character', () => {
      const exotic = [...'ŒœŸŠšŽžŁłĐđıƒﬁﬂ‘’‚‛′“”„‟″‹›≤≥‐‑‒–—―−€…™•μ\u2002\u2009\u202f\u200b\ufeffˆ˜'].join('');
      const written = encodeMessage(exotic, '8859/1').bytes.toString('latin1');
      expect(written).to.not.match(/[|^~\\&]/);
    });
  });

  describe('decodeMessage', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['8859/1', Buffer.from(header('8859/1') + 'Hélène', 'latin1'), '8859/1'],
      ['ISO-8859-1', Buffer.from(header('ISO-8859-1') + 'Hélène', 'latin1'), '8859/1'],
      ['ISO IR100', Buffer.from(header('ISO IR100') + 'Hélène', 'latin1'), '8859/1'],
      ['UNICODE UTF-8', Buffer.from(header('UNICODE UTF-8') + 'Hélène', 'utf8'), 'UNICODE UTF-8'],
      ['UTF-8', Buffer.from(header('UTF-8') + 'Hélène', 'utf8'), 'UNICODE UTF-8'],
      ['blank, UTF-8 bytes', Buffer.from(header(' ') + 'Hélène', 'utf8'), 'UNICODE UTF-8'],
      ['absent, UTF-8 bytes', Buffer.from('MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.5\rPID|1||1||Hélène', 'utf8'), 'UNICODE UTF-8'],
      ['absent, Latin-1 bytes', Buffer.from('MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.5\rPID|1||1||Hélène', 'latin1'), '8859/1'],
      ['repeated MSH-18 with components', Buffer.from(header('8859/1^x~UNICODE UTF-8') + 'Hélène', 'latin1'), '8859/1'],
    ];
    for (const [what, bytes, charset] of cases) {
      it(`reads MSH-18 ${what}`, () => {
        const decoded = decodeMessage(bytes);
        expect(decoded.charset).to.equal(charset);
        expect(decoded.text.endsWith('Hélène')).to.equal(true);
        expect(decoded.mismatch).to.equal(false);
      });
    }

    it('reads 8859/15 (Latin-9), where French sites put Œ and €', () => {
      const bytes = Buffer.concat([Buffer.from(header('8859/15')), Buffer.from([0x43, 0xbc, 0x55, 0x52, 0x20, 0xa4])]);
      const decoded = decodeMessage(bytes);
      expect(decoded.charset).to.equal('8859/15');
      expect(decoded.text.endsWith('CŒUR €')).to.equal(true);
    });

    it('reads a Latin-1 declaration over UTF-8 bytes as UTF-8, and flags the mismatch', () => {
      const decoded = decodeMessage(Buffer.from(header('8859/1') + 'Hélène – ’', 'utf8'));
      expect(decoded).to.deep.include({ charset: 'UNICODE UTF-8', declared: '8859/1', mismatch: true });
      expect(decoded.text.endsWith('Hélène – ’')).to.equal(true);
    });

    it('reads a UTF-8 declaration over bytes that are not UTF-8 as Latin-1, losing no byte', () => {
      const decoded = decodeMessage(Buffer.from(header('UNICODE UTF-8') + 'Hélène', 'latin1'));
      expect(decoded).to.deep.include({ charset: '8859/1', declared: 'UNICODE UTF-8', mismatch: true });
      expect(decoded.text.endsWith('Hélène')).to.equal(true);
    });

    it('drops a UTF-8 BOM and never throws on bytes that are not HL7', () => {
      expect(decodeMessage(Buffer.from('\uFEFF' + header('UNICODE UTF-8'), 'utf8')).text.startsWith('MSH|')).to.equal(true);
      expect(decodeMessage(Buffer.from([0xff, 0x00, 0x0b])).charset).to.equal('8859/1');
      expect(decodeMessage(Buffer.alloc(0)).text).to.equal('');
    });

    it('maps a declared charset to the one to answer in', () => {
      expect(toHl7Charset('8859/1')).to.equal('8859/1');
      expect(toHl7Charset('ISO IR100')).to.equal('8859/1');
      expect(toHl7Charset('8859/15')).to.equal('8859/1');
      expect(toHl7Charset('UNICODE UTF-8')).to.equal('UNICODE UTF-8');
      expect(toHl7Charset('')).to.equal('UNICODE UTF-8');
    });
  });
});
