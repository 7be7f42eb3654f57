/**
 * Real captures from ../shared/fixtures/hl7 (read in place, never copied: their licences say so).
 * Each is decoded, parsed, checked field by field against python3-hl7, and acknowledged.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { buildAck, decodeMessage, encodeMessage, Hl7Message, Hl7ParseError, readAck, splitMessages } from '../../../adapters/hl7';
import { sharedFixture } from '../../support/shared';
import { parseWithPython } from '../../support/python-hl7';

const fixture = (name: string): Buffer => readFileSync(sharedFixture('hl7', name));

interface Expected {
  file: string;
  controlId: string;
  type: string;
  version: string;
  charset: string;
  declared: string;
  mismatch?: boolean;
  segments: number;
  check?: (m: Hl7Message, text: string) => void;
}

const FIXTURES: Expected[] = [
  {
    file: 'adt-a01_utf8-umlauts.hl7', controlId: '123456', type: 'ADT^A01', version: '2.2', charset: 'UNICODE UTF-8', declared: '', segments: 5,
    check: (m) => {
      // UTF-8 bytes and no MSH-18: read as UTF-8 because they are valid UTF-8.
      expect(m.get('PID-5.1')).to.equal('Nächname');
      expect(m.get('PID-5.2')).to.equal('Vörname');
      expect(m.get('PID-11.1')).to.equal('Blöhplatz 1');
    },
  },
  {
    file: 'adt-a08_mesa-veterinary.hl7', controlId: '100212', type: 'ADT^A08', version: '2.5.1', charset: 'UNICODE UTF-8', declared: '', segments: 4,
    check: (m) => {
      expect(m.get('MSH-7')).to.equal('');
      expect(m.get('MSH-18')).to.equal(' '); // a single space: no charset declared
      expect(m.get('PID-35.2')).to.equal('Canis');
    },
  },
  {
    file: 'omi-o23_imaging-order_declared-8859-1_contains-utf8.hl7', controlId: '1001125', type: 'OMI^O23^OMI_O23', version: '2.5.1',
    charset: 'UNICODE UTF-8', declared: '8859/1', mismatch: true, segments: 11,
    check: (m, text) => {
      // Declared Latin-1, but E2 80 93 is a UTF-8 en dash: read as Latin-1 it would be 'â' + two C1 controls.
      expect(text).to.contain('score from 12 \u201335.');
      expect(text).to.not.contain('\u00e2');
      expect(m.get('IPC-3')).to.equal('1.2.392.200036.9125.0.198811291108.7');
      expect(m.get('IPC-9[2]')).to.equal('ScheduledStationAET2'); // last segment without its CR
    },
  },
  {
    file: 'orm-o01_radiology-order_mesa.hl7', controlId: '103106', type: 'ORM^O01', version: '2.3.1', charset: 'UNICODE UTF-8', declared: '', segments: 6,
    check: (m) => {
      expect(m.get('ORC-2.2')).to.equal('MESA_ORDPLC');
      expect(m.get('ZDS-1.1')).to.equal('1.113654.3.13.1026'); // a site Z-segment reads like any other
    },
  },
  {
    file: 'oru-r01_elr_sars-cov-2_cepheid-xpert-xpress-pos.hl7', controlId: '202004021123114321', type: 'ORU^R01^ORU_R01', version: '2.5.1',
    charset: 'UNICODE UTF-8', declared: '', segments: 14,
    check: (m, text) => {
      expect(m.delimiters).to.deep.include({ component: '^', repetition: '~', escape: '\\', subcomponent: '&', truncation: '#' });
      expect(m.get('MSH-3.2')).to.equal('2.16.840.1.114222.4.3.3.2.34.2');
      expect(m.get('MSH-21[2].2')).to.equal('PHLIP_Profile_Flu');
      expect(m.get('OBX[1]-5')).to.equal('^10');
      expect(m.get('OBX[1]-5.2')).to.equal('10');
      expect(text).to.contain('Administration\u2019s Emergency Use');
      expect(m.get('SPM-4.1')).to.not.equal(undefined);
    },
  },
  {
    file: 'oru-r01_ihe-pcd01_nibp.hl7', controlId: 'MSGID1234', type: 'ORU^R01^ORU_R01', version: '2.6', charset: 'UNICODE UTF-8', declared: '', segments: 8,
    check: (m) => {
      // CRLF after each segment: no empty or LF-prefixed segment.
      expect(m.segments().map((s) => s.name)).to.deep.equal(['MSH', 'PID', 'OBR', 'OBX', 'OBX', 'OBX', 'OBX', 'OBX']);
      expect(m.get('OBX[3]-3.2')).to.equal('MDC_PRESS_BLD_NONINV_SYS');
      expect(m.get('OBX[3]-4')).to.equal('1.0.1.1');
      expect(m.get('OBX[3]-5')).to.equal('120');
      expect(m.get('OBX[1]-18.1')).to.equal('0123456789ABCDEF');
    },
  },
  {
    file: 'oru-r01_nist-elr-lead-testcase1.er7', controlId: 'NIST-100929110701660', type: 'ORU^R01^ORU_R01', version: '2.5.1', charset: 'UNICODE UTF-8', declared: '', segments: 7,
    check: (m) => {
      expect(m.get('OBX-3.1')).to.equal('10368-9');
      expect(m.get('OBX-5')).to.equal('50');
      expect(m.get('OBX-6.3')).to.equal('UCUM');
      expect(m.get('PID-3.4.2')).to.equal('2.16.840.1.113883.19.3.2.1');
    },
  },
];

function tree(m: Hl7Message): Array<{ name: string; fields: Array<string[][][] | null> }> {
  return m.segments().map((s) => ({ name: s.name, fields: [null, ...Array.from({ length: s.fieldCount }, (_, i) => s.field(i + 1) ?? null)] }));
}

describe('hl7 real captures (../shared/fixtures/hl7)', () => {
  for (const f of FIXTURES) {
    describe(f.file, () => {
      const bytes = fixture(f.file);
      const decoded = decodeMessage(bytes);
      const message = Hl7Message.parse(decoded.text);

      it(`decodes as ${f.charset}${f.declared ? ` (declared ${f.declared})` : ' (no charset declared)'} and reads its header`, () => {
        expect(decoded.charset).to.equal(f.charset);
        expect(decoded.declared).to.equal(f.declared);
        expect(decoded.mismatch).to.equal(f.mismatch ?? false);
        expect(message.controlId).to.equal(f.controlId);
        expect(message.messageType).to.equal(f.type);
        expect(message.version).to.equal(f.version);
        expect(message.segments()).to.have.length(f.segments);
        f.check?.(message, decoded.text);
      });

      it('reads every field exactly as python3-hl7 does', () => {
        const py = parseWithPython(encodeMessage(decoded.text, 'UNICODE UTF-8').bytes, 'utf-8');
        expect(tree(message)).to.deep.equal(py.segments);
      });

      it('gets an ACK with MSH-3/4 ours, MSH-5/6 its sender, MSA-2 its MSH-10, readable by python3-hl7', () => {
        const ack = buildAck(message, 'AA', { sendingApplication: 'PASSERELLE', sendingFacility: 'CSO-ANNECY', controlId: 'ACK-0001', now: new Date('2026-11-23T08:00:00Z') });
        const parsed = Hl7Message.parse(ack);
        const msh = message.segment('MSH')!;
        const ackMsh = parsed.segment('MSH')!;
        expect(parsed.get('MSH-3')).to.equal('PASSERELLE');
        expect(parsed.get('MSH-4')).to.equal('CSO-ANNECY');
        expect(ackMsh.field(5) ?? [[['']]]).to.deep.equal(msh.field(3));
        expect(ackMsh.field(6) ?? [[['']]]).to.deep.equal(msh.field(4));
        expect(parsed.get('MSH-5')).to.not.equal('');
        if (f.file !== 'oru-r01_ihe-pcd01_nibp.hl7') expect(parsed.get('MSH-6')).to.not.equal(''); // that one has no MSH-4 to answer to
        expect(parsed.get('MSH-7')).to.equal('20261123090000+0100');
        expect(parsed.messageType).to.equal(`ACK^${msh.get('9.2')}^ACK`);
        expect(parsed.controlId).to.equal('ACK-0001');
        expect(parsed.get('MSH-11')).to.equal(msh.get('11'));
        expect(parsed.version).to.equal(f.version);
        expect(parsed.get('MSA-1')).to.equal('AA');
        expect(parsed.get('MSA-2')).to.equal(f.controlId);
        const raw = encodeMessage(ack, 'UNICODE UTF-8').bytes;
        expect(readAck(parsed, raw)).to.deep.equal({ code: 'AA', controlId: f.controlId, raw });
        const py = parseWithPython(raw);
        expect(py.segments.map((s) => s.name)).to.deep.equal(['MSH', 'MSA']);
        expect(py.segments[1].fields[2]).to.deep.equal([[[f.controlId]]]);
      });
    });
  }

  describe('oml-o21_lab-order_utf8-accent.hl7 (13 messages in one file)', () => {
    const decoded = decodeMessage(fixture('oml-o21_lab-order_utf8-accent.hl7'));

    it('is refused whole, naming the segment where the second message starts', () => {
      expect(() => Hl7Message.parse(decoded.text)).to.throw(Hl7ParseError, /^segment 11 \(MSH\): a second message starts here/);
    });

    it('splits into 13 messages that all parse, UTF-8 without MSH-18 read exactly', () => {
      expect(decoded).to.deep.include({ charset: 'UNICODE UTF-8', declared: '', mismatch: false });
      const messages = splitMessages(decoded.text).map((text) => Hl7Message.parse(text));
      expect(messages).to.have.length(13);
      expect(messages[0].controlId).to.equal('msgOP123');
      expect(messages[0].messageType).to.equal('OML^O21^OML_O21');
      expect(messages.map((m) => m.messageType)).to.include('OUL^R22^OUL_R22');
      const names = messages.flatMap((m) => m.segments('PID').map((s) => s.get('5.2')));
      expect(names).to.include('RODOLFO SEBASTIÁN');
      for (const m of messages) {
        const py = parseWithPython(Buffer.from(m.toString(), 'utf8'), 'utf-8');
        expect(tree(m), m.controlId).to.deep.equal(py.segments);
      }
    });
  });

  describe('acknowledgements', () => {
    it('answers AR to bytes that did not parse, with a generic header and no MSA-2', () => {
      const ack = Hl7Message.parse(buildAck(undefined, 'AR', { sendingApplication: 'PASSERELLE', sendingFacility: 'CSO', controlId: 'R1', text: 'not HL7v2' }));
      expect(ack.messageType).to.equal('ACK');
      expect(ack.get('MSH-5')).to.equal('');
      expect(ack.get('MSH-6')).to.equal('');
      expect(ack.version).to.equal('2.5');
      expect(ack.get('MSA-1')).to.equal('AR');
      expect(ack.get('MSA-2')).to.equal('');
      expect(ack.get('MSA-3')).to.equal('not HL7v2');
    });

    it('echoes a declared charset and escapes its text', () => {
      const message = Hl7Message.parse('MSH|^~\\&|DEV|LAB|||20260101||ORU^R01|C1|P|2.5||||||8859/1\r');
      const ack = Hl7Message.parse(buildAck(message, 'AE', { sendingApplication: 'P', sendingFacility: 'F', controlId: 'A1', text: 'OBX|2: unité ^inconnue' }));
      expect(ack.get('MSH-18')).to.equal('8859/1');
      expect(ack.get('MSA-3')).to.equal('OBX|2: unité ^inconnue');
    });

    it('reads AE/AR with their text, from MSA-3 or else ERR', () => {
      const withErr = Hl7Message.parse('MSH|^~\\&|R|F|||20260101||ACK^R01^ACK|9|P|2.5\rMSA|AE|C7\rERR|||207^Application internal error^HL70357|E||||patient inconnu\r');
      expect(readAck(withErr, Buffer.alloc(0))).to.deep.include({ code: 'AE', controlId: 'C7', text: 'patient inconnu' });
      const enhanced = Hl7Message.parse('MSH|^~\\&|R|F|||20260101||ACK|9|P|2.5\rMSA|CA|C8\r');
      expect(readAck(enhanced, Buffer.alloc(0))).to.deep.include({ code: 'CA', controlId: 'C8' });
    });

    it('refuses a message without MSA, or with an unknown code', () => {
      const noMsa = Hl7Message.parse('MSH|^~\\&|R|F|||20260101||ACK|9|P|2.5\r');
      expect(() => readAck(noMsa, Buffer.alloc(0))).to.throw(Hl7ParseError, /message 9: no MSA segment/);
      const badCode = Hl7Message.parse('MSH|^~\\&|R|F|||20260101||ACK|9|P|2.5\rMSA|OK|C1\r');
      expect(() => readAck(badCode, Buffer.alloc(0))).to.throw(Hl7ParseError, /segment 2 \(MSA\): MSA-1 'OK' is not an acknowledgment code/);
    });
  });
});
