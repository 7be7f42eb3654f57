import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { decodeMessage, extractOrders, Hl7Message, isOrderMessage, splitMessages } from '../../../adapters/hl7';
import { sharedFixture } from '../../support/shared';

function fixtureMessages(name: string): Hl7Message[] {
  return splitMessages(decodeMessage(readFileSync(sharedFixture('hl7', name))).text).map((text) => Hl7Message.parse(text));
}

const EVERYMAN = {
  identifiers: [{ value: '12345', authority: 'Memphis_Hosp', type: 'PI' }],
  name: { family: 'EVERYMAN', given: ['ADAM'] },
  birthDate: '1980-01-01',
  sex: 'M',
  matched: true,
  matchedBy: 'order',
};

describe('HL7 orders: OML^O21 and ORM^O01 → order records', () => {
  it('reads the 13 messages of the OML fixture: orders only from OML^O21, one per specimen', () => {
    const messages = fixtureMessages('oml-o21_lab-order_utf8-accent.hl7');
    expect(messages).to.have.length(13);
    expect(messages.map((m) => isOrderMessage(m))).to.deep.equal([true, true, false, false, true, false, true, false, false, false, true, true, true]);
    expect(messages.filter((m) => !isOrderMessage(m)).every((m) => extractOrders(m).length === 0)).to.equal(true);

    const first = extractOrders(messages[0]);
    expect(first.map((o) => o.specimenId)).to.deep.equal(['123456781', '123456782', '123456783']);
    expect(first[0]).to.deep.equal({
      patient: EVERYMAN,
      placerNumber: '12345678',
      orderCode: { code: '82951', display: 'Glucose Tolerance Test', system: 'C4' },
      orderedAt: '2003-09-06T07:10:00Z',
      specimenId: '123456781',
    });
    // The status update carries the filler number; the cancel-and-replace, five specimens.
    expect(extractOrders(messages[1])[0]).to.deep.include({ placerNumber: '12345678', fillerNumber: '555', specimenId: '123456781' });
    expect(extractOrders(messages[4]).map((o) => o.specimenId)).to.deep.equal(['123456781', '123456782', '123456783', '123456784', '123456785']);
  });

  it('gives one order per ORC/OBR group, with its own SPM, and keeps accents in the patient name', () => {
    const messages = fixtureMessages('oml-o21_lab-order_utf8-accent.hl7');
    const grouped = extractOrders(messages[10]);
    expect(grouped.map((o) => [o.placerNumber, o.fillerNumber, o.specimenId, o.orderCode?.code])).to.deep.equal([
      ['id1', '81641', '123456781', '73666'],
      ['id2', '81642', '123456782', '73642'],
      ['id3', '81643', '123456783', '73916'],
    ]);
    expect(grouped[0].patient).to.deep.equal({ identifiers: [{ value: '14', type: 'HC-HCE' }], name: { family: 'BARRIONUEVO', given: ['RODOLFO SEBASTIÁN'] }, matched: true, matchedBy: 'order' });
    // No SPM, no filler number: the order is kept by its placer number, with no specimen id.
    const noSpecimen = extractOrders(messages[11]);
    expect(noSpecimen.map((o) => [o.placerNumber, o.specimenId])).to.deep.equal([['1', undefined], ['2', undefined], ['3', undefined], ['4', undefined]]);
    expect(noSpecimen[0].orderedAt).to.equal('2013-01-22T10:46:00Z');
    expect(extractOrders(messages[12]).map((o) => [o.placerNumber, o.specimenId])).to.deep.equal([['555_1', '123456781'], ['555_2', '123456782']]);
  });

  it('reads the ORM^O01 radiology order: filler number as specimen id, accession number from OBR-18', () => {
    const [message] = fixtureMessages('orm-o01_radiology-order_mesa.hl7');
    expect(extractOrders(message)).to.deep.equal([{
      patient: { identifiers: [{ value: '583295', authority: 'ADT1' }], name: { family: 'DOE', given: ['J1'] }, sex: 'M', matched: true, matchedBy: 'order' },
      placerNumber: 'A103Z',
      fillerNumber: 'B103Z',
      accessionNumber: 'MOF5026',
      orderCode: { code: 'P1', display: 'Procedure 1', system: 'ERL_MESA' },
      orderedAt: '2000-07-01T09:00:00Z',
      specimenId: 'B103Z',
    }]);
    expect(extractOrders(message, { specimenFrom: ['placer'] })[0].specimenId).to.equal('A103Z');
  });

  it('types the INS by its OID, keeps the birth name, and gives nothing for a PID without identifier', () => {
    const message = Hl7Message.parse([
      'MSH|^~\\&|DPI|HOSP|LIS|LAB|20261123080000+0100||OML^O21^OML_O21|C1|P|2.5|||||FRA|UNICODE UTF-8',
      'PID|1||284037512345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS~IPP42^^^HOSP&1.2.3.4&ISO^PI||LEFÈVRE^Hélène^Françoise^^^^L~NOËL^Hélène^Françoise^^^^D||19840312|F',
      'ORC|NW|P1',
      'OBR|1|P1||GLU^Glucose^LN|||20261123074500+0100',
      'SPM|1|S1||BLD',
      '',
    ].join('\r'));
    const [order] = extractOrders(message);
    expect(order.patient).to.deep.equal({
      identifiers: [
        { value: '284037512345678', type: 'INS-NIR', authority: 'urn:oid:1.2.250.1.213.1.4.8', authorityName: 'ASIP-SANTE-INS-NIR' },
        { value: 'IPP42', authority: 'urn:oid:1.2.3.4', authorityName: 'HOSP', type: 'PI' },
      ],
      name: { family: 'NOËL', given: ['Hélène', 'Françoise'] },
      birthName: 'LEFÈVRE',
      birthDate: '1984-03-12',
      sex: 'F',
      matched: true,
      matchedBy: 'order',
    });
    expect(order).to.deep.include({ specimenId: 'S1', placerNumber: 'P1', orderedAt: '2026-11-23T07:45:00+01:00' });
    const anonymous = Hl7Message.parse(message.toString().replace(/PID\|1\|\|[^|]*\|/, 'PID|1|||'));
    expect(extractOrders(anonymous)).to.deep.equal([]);
  });
});
