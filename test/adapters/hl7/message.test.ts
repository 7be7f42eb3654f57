import { expect } from 'chai';
import { Hl7Message, Hl7ParseError, STANDARD_DELIMITERS, escapeText, splitMessages, unescapeText } from '../../../adapters/hl7';

const HEADER = 'MSH|^~\\&|LAB|SITE|DPI|CH|20261123094110+0100||ORU^R01^ORU_R01|CTRL-1|P|2.5';

describe('hl7 ER7 codec: parsing', () => {
  it('reads header properties and addresses fields, repetitions, components and subcomponents', () => {
    const m = Hl7Message.parse(`${HEADER}\rPID|1||123^^^SITE^PI~456^^^AUTH&1.2.3&ISO^INS||DOE^JOHN^^^^^L\rOBX|1|NM|A\rOBX|2|SN|B||<^5\r`);
    expect(m.controlId).to.equal('CTRL-1');
    expect(m.messageType).to.equal('ORU^R01^ORU_R01');
    expect(m.version).to.equal('2.5');
    expect(m.get('MSH-1')).to.equal('|');
    expect(m.get('MSH-2')).to.equal('^~\\&');
    expect(m.get('MSH-10')).to.equal('CTRL-1');
    expect(m.get('PID-5.1')).to.equal('DOE');
    expect(m.get('PID-3')).to.equal('123^^^SITE^PI'); // first repetition, leaves joined
    expect(m.get('PID-3[2].4.2')).to.equal('1.2.3');
    expect(m.get('PID-3[2].4')).to.equal('AUTH&1.2.3&ISO');
    expect(m.get('OBX[2]-5')).to.equal('<^5');
    expect(m.get('OBX[2]-5.2')).to.equal('5');
    expect(m.get('OBX-2')).to.equal('NM');
  });

  it('tells absent (undefined) from present and empty (\'\')', () => {
    const m = Hl7Message.parse(`${HEADER}\rPID|1||||X^^Y\r`);
    expect(m.get('PID-3')).to.equal('');
    expect(m.get('PID-5.2')).to.equal('');
    expect(m.get('PID-5.4')).to.equal(undefined);
    expect(m.get('PID-9')).to.equal(undefined);
    expect(m.get('PID-5[2]')).to.equal(undefined);
    expect(m.get('OBX-1')).to.equal(undefined);
    expect(m.get('PID[2]-1')).to.equal(undefined);
  });

  it('gives structured access through segments()', () => {
    const m = Hl7Message.parse(`${HEADER}\rPID|1||123^^^SITE^PI~456\rOBX|1\rNTE|1\rOBX|2\r`);
    expect(m.segments().map((s) => s.name)).to.deep.equal(['MSH', 'PID', 'OBX', 'NTE', 'OBX']);
    expect(m.segments('OBX').map((s) => s.position)).to.deep.equal([3, 5]);
    const pid = m.segment('PID')!;
    expect(pid.repetitions(3)).to.equal(2);
    expect(pid.field(3)).to.deep.equal([[['123'], [''], [''], ['SITE'], ['PI']], [['456']]]);
    expect(pid.raw(3)).to.equal('123^^^SITE^PI~456');
    expect(pid.get('3[2].1')).to.equal('456');
    expect(pid.fieldCount).to.equal(3);
  });

  it('decodes escape sequences, in data only', () => {
    const m = Hl7Message.parse(`${HEADER}\rNTE|1|L|a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X0D0A\\g\\.br\\h\\H\\i\\N\\\r`);
    expect(m.get('NTE-3')).to.equal('a|b^c&d~e\\f\r\ng\nh\\H\\i\\N\\');
  });

  it('decodes \\Xhh\\ as UTF-8 when valid, else Latin-1', () => {
    const d = STANDARD_DELIMITERS;
    expect(unescapeText('\\XC3A9\\', d)).to.equal('é');
    expect(unescapeText('\\XE9\\', d)).to.equal('é');
    expect(unescapeText('no \\escape end', d)).to.equal('no \\escape end');
  });

  it('escapes every delimiter and the bytes that would break segments or MLLP framing', () => {
    const text = 'a|b^c&d~e\\f\rg\nh\x0bi\x1cj';
    const escaped = escapeText(text, STANDARD_DELIMITERS);
    expect(escaped).to.equal('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X0D\\g\\X0A\\h\\X0B\\i\\X1C\\j');
    expect(unescapeText(escaped, STANDARD_DELIMITERS)).to.equal(text);
  });

  it('reads the delimiters from MSH-1 and MSH-2, including a fifth (truncation) character', () => {
    const m = Hl7Message.parse('MSH#*!%@$#A#B#C#D#20200101##ORU*R01#X1#P#2.7\rPID#1##1*2*3@4!7%F%\r');
    expect(m.delimiters).to.deep.include({ field: '#', component: '*', repetition: '!', escape: '%', subcomponent: '@', truncation: '$' });
    expect(m.messageType).to.equal('ORU^R01');
    expect(m.get('PID-3.3.2')).to.equal('4');
    expect(m.get('PID-3[2]')).to.equal('7#');
    const truncation = Hl7Message.parse('MSH|^~\\&#|A|B|C|D|||ORU^R01|X1|P|2.7\rNTE|1||50\\P\\ off\r');
    expect(truncation.get('NTE-3')).to.equal('50# off');
  });

  it('tolerates LF, CRLF, blank lines, a leading BOM and a missing final CR', () => {
    for (const [name, text] of [
      ['LF', `${HEADER}\nPID|1\nOBX|1`],
      ['CRLF', `${HEADER}\r\nPID|1\r\nOBX|1\r\n`],
      ['blank lines', `\r\n${HEADER}\r\rPID|1\r\r\rOBX|1\r\r`],
      ['BOM', `\uFEFF${HEADER}\rPID|1\rOBX|1\r`],
    ] as const) {
      const m = Hl7Message.parse(text);
      expect(m.segments().map((s) => s.name), name).to.deep.equal(['MSH', 'PID', 'OBX']);
    }
  });

  it('writes itself back as ER7 with CR terminators', () => {
    const m = Hl7Message.parse(`${HEADER}\nPID|1||a\\F\\b`);
    expect(m.toString()).to.equal(`${HEADER}\rPID|1||a\\F\\b\r`);
    expect(Hl7Message.parse(m.toString()).get('PID-3')).to.equal('a|b');
  });

  describe('refuses what is not HL7 with a clear Hl7ParseError', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['empty text', '', /^segment 1: an HL7v2 message starts with MSH$/],
      ['plain text', 'this is not HL7', /segment 1: an HL7v2 message starts with MSH$/],
      ['another segment first', 'PID|1||x\r', /segment 1: .*starts with MSH, found PID/],
      ['a letter as field separator', 'MSHA^~\\&A', /MSH-1 must be the field separator/],
      ['three encoding characters', 'MSH|^~\\|A|B|C|D|||ORU^R01|1|P|2.5', /MSH-2 must hold 4 or 5 encoding characters, found 3/],
      ['repeated encoding characters', 'MSH|^^\\&|A|B|C|D|||ORU^R01|1|P|2.5', /distinct/],
      ['a header too short', 'MSH|^~\\&|A|B|C|D|||ORU^R01|1', /segment 1 \(MSH\): too short, 10 fields where MSH-12/],
      ['no message type', 'MSH|^~\\&|A|B|C|D|||||1|P|2.5', /MSH-9 \(message type\) is empty/],
      ['a bad segment name', `${HEADER}\rPID|1\rpv1|x\r`, /^segment 3: invalid segment name/],
      ['a segment name too long', `${HEADER}\rPIDX|1\r`, /^segment 2: invalid segment name/],
      ['two messages', `${HEADER}\rPID|1\r${HEADER}\r`, /^segment 3 \(MSH\): a second message starts here/],
    ];
    for (const [what, text, message] of cases) {
      it(what, () => {
        expect(() => Hl7Message.parse(text)).to.throw(Hl7ParseError, message);
      });
    }

    it('without quoting data from the message', () => {
      try {
        Hl7Message.parse(`${HEADER}\rPID|1||DUPONT\rDUPONT JEAN 12 rue\r`);
        expect.fail('parsed');
      } catch (err) {
        expect((err as Error).message).to.equal("segment 3: invalid segment name (3 capitals or digits followed by '|' expected)");
      }
    });
  });

  it('rejects malformed paths as a programming error (RangeError)', () => {
    const m = Hl7Message.parse(`${HEADER}\r`);
    for (const path of ['PID', 'PID-0', 'pid-1', 'PID-1.0', 'PID[0]-1', 'PID-1[0]', 'PID-1.2.3.4']) {
      expect(() => m.get(path), path).to.throw(RangeError);
    }
  });

  it('splits a file of several messages', () => {
    const parts = splitMessages(`${HEADER}\rPID|1\r\r\r${HEADER.replace('CTRL-1', 'CTRL-2')}\rPID|2\r`);
    expect(parts).to.have.length(2);
    expect(parts.map((p) => Hl7Message.parse(p).controlId)).to.deep.equal(['CTRL-1', 'CTRL-2']);
  });
});
