import { expect } from 'chai';
import { ConfigError, readConfig } from '../../gateway/config';

const SENDER = { GP_SENDER_FINESS: '740012345', GP_SENDER_NAME: 'CSNP Annecy', GP_SENDER_RPPS: '10101111111', GP_SENDER_FAMILY: 'ROUSSEAU', GP_HPRIM_CODE: 'CSOANNECY' };

describe('hub configuration: results to the GP', () => {
  it('nothing set: no GP transport, no sending site', () => {
    expect(readConfig({}, '/srv').gp).to.deep.equal({ caFile: undefined, certFile: undefined, keyFile: undefined, credentials: undefined, nil: undefined, directory: undefined, dropDir: undefined });
  });

  it('reads the server, the sender, the files (resolved), the credentials and the sending site', () => {
    const gp = readConfig({ GP_SMTP: 'smtp.mssante.example:587', GP_SMTP_FROM: 'passerelle@cso.mssante.fr', GP_SMTP_CA: 'igc-sante.pem', GP_SMTP_CERT: '/etc/p/cert.pem', GP_SMTP_KEY: '/etc/p/key.pem',
      GP_SMTP_USER: 'hub', GP_SMTP_PASSWORD: 's', GP_MSS_NIL: 'NIL-1', GP_DIRECTORY: 'gp.json', GP_DROP_DIR: '/srv/drop', ...SENDER }, '/srv').gp;
    expect(gp).to.deep.equal({
      smtp: { host: 'smtp.mssante.example', port: 587 }, from: 'passerelle@cso.mssante.fr', caFile: '/srv/igc-sante.pem', certFile: '/etc/p/cert.pem', keyFile: '/etc/p/key.pem',
      credentials: { username: 'hub', password: 's' }, nil: 'NIL-1', directory: '/srv/gp.json', dropDir: '/srv/drop',
      sender: { finess: '740012345', name: 'CSNP Annecy', rpps: '10101111111', family: 'ROUSSEAU', given: undefined, hprimCode: 'CSOANNECY' },
    });
  });

  it('names the variable that is wrong', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ GP_SMTP: 'smtp.example' }, /^GP_SMTP=smtp.example: .*host:port/],
      [{ GP_SMTP: 'smtp.example:587', ...SENDER }, /GP_SMTP needs GP_SMTP_FROM/],
      [{ GP_SMTP: 'smtp.example:587', GP_SMTP_FROM: 'passerelle@site', ...SENDER }, /^GP_SMTP_FROM=passerelle@site: not a valid mailbox/],
      [{ GP_SMTP_CERT: '/c.pem' }, /GP_SMTP_CERT and GP_SMTP_KEY go together/],
      [{ GP_SMTP_USER: 'hub' }, /GP_SMTP_USER and GP_SMTP_PASSWORD go together/],
      [{ GP_DROP_DIR: '/srv/drop' }, /results to the GP need the sending site: set GP_SENDER_FINESS, GP_SENDER_NAME, GP_SENDER_RPPS, GP_SENDER_FAMILY, GP_HPRIM_CODE/],
      [{ GP_DROP_DIR: '/srv/drop', ...SENDER, GP_SENDER_RPPS: '123' }, /^GP_SENDER_RPPS=123: an RPPS number has 11 digits/],
      [{ GP_DROP_DIR: '/srv/drop', ...SENDER, GP_HPRIM_CODE: 'WAY-TOO-LONG-CODE' }, /^GP_HPRIM_CODE=WAY-TOO-LONG-CODE: 10 characters at most/],
      [{ GP_MSS_NIL: 'has space' }, /^GP_MSS_NIL=has space/],
    ];
    for (const [env, message] of cases) expect(() => readConfig(env, '/srv'), JSON.stringify(env)).to.throw(ConfigError, message);
  });
});
