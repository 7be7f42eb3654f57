import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpReadError } from '../../../adapters/gp';
import { controlIdOfMessageId, messageIdFor, permanentFailures, readDsn } from '../../../adapters/gp/mail';

const RUNS = 300;
const DAMAGED = 1500;
const sample = () => readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'adapters', 'gp', 'bounce.eml'), 'latin1').replace(/__MESSAGE_ID__/g, '<P0ABCDEFG1234001@cso-annecy.mssante.fr>');

function dsnMail(fields: { recipient: string; action: string; status: string; messageId: string; boundary: string; encoding: '7bit' | 'base64' | 'quoted-printable'; crlf: boolean }): Buffer {
  const status = [
    'Reporting-MTA: dns; relay.example', '',
    `Final-Recipient: rfc822; ${fields.recipient}`, `Action: ${fields.action}`, `Status: ${fields.status}`, 'Diagnostic-Code: smtp; 550 no such user', '',
  ].join('\n');
  const body = fields.encoding === 'base64' ? Buffer.from(status, 'latin1').toString('base64').replace(/.{76}/g, '$&\n')
    : fields.encoding === 'quoted-printable' ? status.replace(/=/g, '=3D').replace(/;/g, '=3B') : status;
  const text = [
    'From: MAILER-DAEMON@relay.example', 'MIME-Version: 1.0', `Content-Type: multipart/report; report-type=delivery-status;\n boundary="${fields.boundary}"`, '',
    `--${fields.boundary}`, 'Content-Type: text/plain', '', 'Undelivered.', '',
    `--${fields.boundary}`, 'Content-Type: message/delivery-status', `Content-Transfer-Encoding: ${fields.encoding}`, '', body, '',
    `--${fields.boundary}`, 'Content-Type: message/rfc822', '', `Message-ID: ${fields.messageId}`, 'Subject: x', '', 'body', '',
    `--${fields.boundary}--`, '',
  ].join('\n');
  return Buffer.from(fields.crlf ? text.replace(/\n/g, '\r\n') : text, 'latin1');
}

describe('gp/mail: DSN reader (RFC 3464)', () => {
  it('reads the Postfix-style bounce: recipient, action, status, diagnostic, the original Message-ID', () => {
    const dsn = readDsn(Buffer.from(sample(), 'latin1'));
    expect(dsn.reportingMta).to.equal('relay.medecin.mssante.fr');
    expect(dsn.originalMessageId).to.equal('<P0ABCDEFG1234001@cso-annecy.mssante.fr>');
    expect(dsn.recipients).to.deep.equal([{
      finalRecipient: 'benoit.lefevre@medecin.mssante.fr', originalRecipient: 'benoit.lefevre@medecin.mssante.fr', action: 'failed', status: '5.1.1',
      diagnosticCode: '550 5.1.1 <benoit.lefevre@medecin.mssante.fr>: Recipient address rejected: User unknown', remoteMta: 'mx.medecin.mssante.fr',
    }]);
    expect(permanentFailures(dsn)).to.have.length(1);
    expect(controlIdOfMessageId(dsn.originalMessageId!)).to.equal('P0ABCDEFG1234001');
  });

  it('a delayed notice (4.x.x, Action: delayed) is no permanent failure; a plain mail is not a DSN', () => {
    const delayed = readDsn(Buffer.from(sample().replace('Action: failed', 'Action: delayed').replace('Status: 5.1.1', 'Status: 4.4.1'), 'latin1'));
    expect(permanentFailures(delayed)).to.deep.equal([]);
    expect(() => readDsn(Buffer.from('From: a@b.fr\r\nSubject: hello\r\n\r\nhi\r\n'))).to.throw(GpReadError, /not a delivery status notification/);
  });

  it(`${RUNS} generated DSNs (encodings, line ends, boundaries) read back their fields`, () => {
    const controlId = fc.stringMatching(/^[0-9A-Z]{16}$/);
    fc.assert(fc.property(controlId, fc.constantFrom('failed', 'delayed', 'delivered', 'relayed', 'expanded'), fc.tuple(fc.constantFrom(2, 4, 5), fc.nat(40), fc.nat(999)),
      fc.stringMatching(/^[A-Za-z0-9'()+_,.\/:=?-]{1,60}$/).filter((b) => !/[ ]$/.test(b)), fc.constantFrom('7bit' as const, 'base64' as const, 'quoted-printable' as const), fc.boolean(),
      (id, action, [a, b, c], boundary, encoding, crlf) => {
        const messageId = messageIdFor(id, 'passerelle@cso.mssante.fr');
        const dsn = readDsn(dsnMail({ recipient: 'gp@medecin.mssante.fr', action, status: `${a}.${b}.${c}`, messageId, boundary, encoding, crlf }));
        expect(dsn.recipients).to.deep.equal([{ finalRecipient: 'gp@medecin.mssante.fr', action, status: `${a}.${b}.${c}`, diagnosticCode: '550 no such user' }]);
        expect(controlIdOfMessageId(dsn.originalMessageId!)).to.equal(id);
        expect(permanentFailures(dsn).length).to.equal(action === 'failed' && a === 5 ? 1 : 0);
      }), { numRuns: RUNS });
  });

  it(`${DAMAGED} damaged or random mails give a reading or a GpReadError, never another error`, () => {
    const good = Buffer.from(sample(), 'latin1');
    const damaged = fc.tuple(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.nat(good.length)).map(([changes, cut]) => {
      const bad = Buffer.from(good.subarray(0, cut));
      for (const [at, v] of changes) if (at < bad.length) bad[at] = v;
      return bad;
    });
    fc.assert(fc.property(fc.oneof(damaged, fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a))), (bytes) => {
      try {
        readDsn(bytes);
      } catch (err) {
        expect(err).to.be.instanceOf(GpReadError);
      }
    }), { numRuns: DAMAGED });
  });
});
