/**
 * E1394 record layer: delimiters from the header, escapes, field numbering (type letter = field
 * 1), the H/P/O/R/C/M/Q/L hierarchy, tolerance of LF line ends, and the writer.
 */
import { expect } from 'chai';
import {
  AstmParseError, DEFAULT_DELIMITERS, escapeText, parseMessage, parseMessages, readDelimiters, unescapeText, writeMessage, writeRecord,
} from '../../../adapters/astm';

describe('astm records: delimiters', () => {
  it('reads the four delimiters from the header, whatever they are', () => {
    expect(readDelimiters('H|\\^&|||x').delimiters).to.deep.equal({ field: '|', repeat: '\\', component: '^', escape: '&' });
    expect(readDelimiters('H|@^\\|URM').delimiters).to.deep.equal({ field: '|', repeat: '@', component: '^', escape: '\\' });
    expect(readDelimiters('H|`^&').delimiters).to.deep.equal({ field: '|', repeat: '`', component: '^', escape: '&' });
    expect(readDelimiters('H!~#$!!x').delimiters).to.deep.equal({ field: '!', repeat: '~', component: '#', escape: '$' });
  });

  it('reads a doubled character once (the Yumizen capture\'s H|\\\\^&) and says so', () => {
    const read = readDelimiters('H|\\\\^&|||H550');
    expect(read.delimiters).to.deep.equal(DEFAULT_DELIMITERS);
    expect(read.quirk).to.match(/twice/);
    const message = parseMessage('H|\\\\^&|||H550^909^1.2\nP|1\nO|1|PX449L||^^^DIF\nR|1|^^^MCV^787-2|78.4|um3\nL|1|N');
    expect(message.warnings[0]).to.match(/record 1 \(H\).*twice/);
    expect(message.patients[0].orders[0].results[0].record.get(3, 4)).to.equal('MCV');
  });

  it('refuses what is not a header, or delimiters that cannot work', () => {
    expect(() => readDelimiters('P|1')).to.throw(AstmParseError, /header/);
    expect(() => readDelimiters('H|\\^')).to.throw(AstmParseError);
    expect(() => readDelimiters('H|\\^\\|')).to.throw(AstmParseError);
    expect(() => readDelimiters('H|^^^&|')).to.throw(AstmParseError, /3 delimiter/);
    expect(() => readDelimiters('H|\\|&|')).to.throw(AstmParseError, /distinct|3 delimiter/);
    expect(() => parseMessages('P|1\rR|1\r')).to.throw(AstmParseError, /no header/);
  });
});

describe('astm records: escapes', () => {
  const d = DEFAULT_DELIMITERS;
  it('decodes &F& &S& &R& &E& and &Xhhhh& (bytes as hexadecimal pairs)', () => {
    expect(unescapeText('a&F&b&S&c&R&d&E&e', d)).to.equal('a|b^c\\d&e');
    expect(unescapeText('line&X0D0A&next &XE9&', d)).to.equal('line\r\nnext é');
  });

  it('drops highlighting (&H& &N&), keeps &Zcccc& and anything unknown or unterminated as written', () => {
    expect(unescapeText('&H&HIGH&N& normal', d)).to.equal('HIGH normal');
    expect(unescapeText('x&ZABC&y', d)).to.equal('x&ZABC&y');
    expect(unescapeText('AT&T and &Q& and &X1&', d)).to.equal('AT&T and &Q& and &X1&');
    expect(unescapeText('trailing &', d)).to.equal('trailing &');
  });

  it('uses the message\'s own escape character', () => {
    const message = parseMessage('H|@^\\|\rR|1|^^^A|x\\S\\y\\R\\z\\F\\w\\E\\|\rL|1\r');
    expect(message.patients[0].orders[0].results[0].record.get(4)).to.equal('x^y@z|w\\');
  });

  it('escapeText encodes delimiters and control characters so they read back', () => {
    expect(escapeText('a|b^c\\d&e\rf', d)).to.equal('a&F&b&S&c&R&d&E&e&X0D&f');
    expect(unescapeText(escapeText('a|b^c\\d&e\rf\x04', d), d)).to.equal('a|b^c\\d&e\rf\x04');
  });

  it('decodes after splitting: an escaped delimiter never splits a field', () => {
    const message = parseMessage('H|\\^&\rR|1|^^^^SCAT_WDF|PNG&R&20240628&R&WDF.PNG|||N\r');
    const r = message.patients[0].orders[0].results[0].record;
    expect(r.repeats(4)).to.have.length(1);
    expect(r.get(4)).to.equal('PNG\\20240628\\WDF.PNG');
  });
});

describe('astm records: parsing', () => {
  it('numbers fields as the standard does: the type letter is field 1', () => {
    const m = parseMessage('H|\\^&|||Dev^1.0^SN42|||||||P|LIS2-A2|20240101120000\rP|1|PID3|LAB4\rO|1|SPEC||^^^HGB\\^^^WBC|R\rR|1|^^^HGB|14.0|g/dL|12 to 16|N||F||op^ver||20240101115900|INST\rL|1|N\r');
    expect(m.header.type).to.equal('H');
    expect(m.header.get(5, 3)).to.equal('SN42');
    expect(m.header.get(12)).to.equal('P');
    expect(m.header.get(14)).to.equal('20240101120000');
    const p = m.patients[0].record!;
    expect([p.get(1), p.get(2), p.get(3), p.get(4)]).to.deep.equal(['P', '1', 'PID3', 'LAB4']);
    const o = m.patients[0].orders[0].record!;
    expect(o.get(3)).to.equal('SPEC');
    expect(o.repeats(5).map((r) => r[3])).to.deep.equal(['HGB', 'WBC']);
    const r = m.patients[0].orders[0].results[0].record;
    expect([r.get(3, 4), r.get(4), r.get(5), r.get(6), r.get(7), r.get(9), r.get(11, 2), r.get(13), r.get(14)]).to.deep.equal(
      ['HGB', '14.0', 'g/dL', '12 to 16', 'N', 'F', 'ver', '20240101115900', 'INST'],
    );
    expect(r.get(40)).to.equal('');
    expect(r.label).to.equal('record 4 (R)');
    expect(m.terminator?.get(3)).to.equal('N');
    expect(m.warnings).to.deep.equal([]);
  });

  it('splits records on CR, LF or CR LF, skips blank lines, needs no final line end', () => {
    for (const end of ['\r', '\n', '\r\n']) {
      const m = parseMessage(['H|\\^&', 'P|1', '', 'O|1|S', 'R|1|^^^A|1', 'L|1|N'].join(end));
      expect(m.records.map((r) => r.type).join('')).to.equal('HPORL');
    }
  });

  it('keeps several patients, orders and results in their places', () => {
    const m = parseMessage('H|\\^&\rP|1|A\rO|1|S1\rR|1|^^^X|1\rR|2|^^^Y|2\rO|2|S2\rR|1|^^^Z|3\rP|2|B\rO|1|S3\rR|1|^^^X|4\rL|1|N\r');
    expect(m.patients.map((p) => p.record!.get(3))).to.deep.equal(['A', 'B']);
    expect(m.patients.map((p) => p.orders.map((o) => [o.record!.get(3), o.results.map((r) => r.record.get(4))]))).to.deep.equal([
      [['S1', ['1', '2']], ['S2', ['3']]],
      [['S3', ['4']]],
    ]);
  });

  it('attaches comments and manufacturer records to the record they follow', () => {
    const m = parseMessage('H|\\^&\rC|1|I|header note|G\rP|1\rC|1||POST HD\rO|1|S\rC|1|I|CONTROL_FAILED|I\rM|1|HISTOGRAM|RBC|x\rR|1|^^^A|1\rC|1|I|flag A|I\rC|2|I|flag B|I\rM|2|CURVE|y\rR|2|^^^B|2\rQ|1|^S1||ALL\rC|1|q\rL|1|N\r');
    expect(m.comments.map((c) => c.get(4))).to.deep.equal(['header note']);
    const patient = m.patients[0];
    expect(patient.comments.map((c) => c.get(4))).to.deep.equal(['POST HD']);
    const order = patient.orders[0];
    expect(order.comments.map((c) => c.get(4))).to.deep.equal(['CONTROL_FAILED']);
    expect(order.manufacturer.map((r) => r.get(3))).to.deep.equal(['HISTOGRAM']);
    expect(order.results[0].comments.map((c) => c.get(4))).to.deep.equal(['flag A', 'flag B']);
    expect(order.results[0].manufacturer.map((r) => r.get(3))).to.deep.equal(['CURVE']);
    expect(order.results[1].comments).to.deep.equal([]);
    expect(m.queries[0].record.get(3, 2)).to.equal('S1');
    expect(m.queries[0].comments.map((c) => c.get(3))).to.deep.equal(['q']);
  });

  it('keeps unknown record types and flags them; never fails on M records', () => {
    const m = parseMessage('H|\\^&\rP|1\rS|1|scientific\rO|1|S\rM|1|\x7f\xff weird ^^^\\\\ &&&\rZ|1|site\rR|1|^^^A|1\rL|1|N\r');
    expect(m.unknown.map((r) => r.type)).to.deep.equal(['S', 'Z']);
    expect(m.unknown.every((r) => !r.known)).to.equal(true);
    expect(m.warnings).to.deep.equal(['record 3 (S): unknown record type, kept', 'record 6 (Z): unknown record type, kept']);
    expect(m.patients[0].orders[0].manufacturer).to.have.length(1);
    expect(m.patients[0].orders[0].results).to.have.length(1);
  });

  it('groups results without an order, or orders without a patient, under empty parents with a warning', () => {
    const m = parseMessage('H|\\^&\rR|1|^^^A|1\rO|1|S\rR|1|^^^B|2\r');
    expect(m.patients).to.have.length(1);
    expect(m.patients[0].record).to.equal(undefined);
    expect(m.patients[0].orders.map((o) => [o.record?.get(3), o.results.length])).to.deep.equal([[undefined, 1], ['S', 1]]);
    expect(m.warnings).to.deep.equal([
      'record 2 (R): no patient record before it; grouped under an empty patient',
      'record 2 (R): no order record before it; grouped under an empty order',
      'no terminator (L) record: the message may be incomplete',
    ]);
  });

  it('splits a file of several messages at each header; parseMessage wants exactly one', () => {
    const text = 'junk\rH|\\^&\rP|1\rL|1|N\rH|@^\\\rP|1\rL|1|N\r';
    const messages = parseMessages(text);
    expect(messages.map((m) => m.delimiters.repeat)).to.deep.equal(['\\', '@']);
    expect(messages[0].warnings[0]).to.match(/before the first header/);
    expect(() => parseMessage(text)).to.throw(AstmParseError, /more than one message/);
  });

  it('errors name positions, never contents (they reach logs; contents are patient data)', () => {
    try {
      parseMessages('P|1||DUPONT^Jean\rH|DUPONT|\r');
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(AstmParseError);
      expect((err as Error).message).to.not.match(/DUPONT|Jean/);
    }
  });
});

describe('astm records: writer', () => {
  it('writes records with escaping and the header\'s delimiter definition', () => {
    expect(writeRecord(['H', '', '', '', ['Sim', '1.0']])).to.equal('H|\\^&|||Sim^1.0');
    expect(writeRecord(['R', '1', ['', '', '', 'A|B'], 'x^y', [['a', 'b'], ['c']]])).to.equal('R|1|^^^A&F&B|x&S&y|a^b\\c');
    const d = { field: '|', repeat: '@', component: '^', escape: '\\' };
    expect(writeMessage([['H', ''], ['L', '1', 'N']], d)).to.equal('H|@^\\\rL|1|N\r');
  });

  it('what it writes parses back to the same fields', () => {
    const text = writeMessage([
      ['H', '', '', '', ['Passerelle', 'sim']],
      ['P', '1', '', 'IPP|42', ['NOËL', 'Hélène']],
      ['O', '1', 'S1', '', [['', '', '', 'A'], ['', '', '', 'B']]],
      ['R', '1', ['', '', '', 'A'], 'line\rbreak & more', 'mg/L'],
      ['L', '1', 'N'],
    ]);
    const m = parseMessage(text);
    expect(m.patients[0].record!.get(4)).to.equal('IPP|42');
    expect(m.patients[0].record!.components(5)).to.deep.equal(['NOËL', 'Hélène']);
    expect(m.patients[0].orders[0].record!.repeats(5).map((r) => r[3])).to.deep.equal(['A', 'B']);
    expect(m.patients[0].orders[0].results[0].record.get(4)).to.equal('line\rbreak & more');
    // A parsed record writes back as itself.
    expect(writeMessage(m.records, m.delimiters)).to.equal(text);
  });
});
