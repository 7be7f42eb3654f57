import { expect } from 'chai';
import { topicMatches } from '../../../adapters/bus';
import { credentialsMatch } from '../../../adapters/bus/credentials';
import { resultFilter, topicFor } from '../../../adapters/model/topics';

describe('bus: topic filters and credentials', () => {
  it('matches MQTT filters as the broker does', () => {
    const topic = topicFor({ site: 'site-a', kind: 'biology', source: 'poct-7', event: 'result' });
    expect(topicMatches(resultFilter(), topic)).to.equal(true);
    expect(topicMatches(resultFilter('site-b'), topic)).to.equal(false);
    expect(topicMatches('passerelle/#', topic)).to.equal(true);
    expect(topicMatches('passerelle/v1/site-a/#', 'passerelle/v1/site-a')).to.equal(true);
    expect(topicMatches('passerelle/v1/+/biology/+', topic)).to.equal(false);
    expect(topicMatches('a/+/c', 'a//c')).to.equal(true);
    expect(topicMatches('#', '$SYS/broker/uptime')).to.equal(false);
    expect(topicMatches('$SYS/#', '$SYS/broker/uptime')).to.equal(true);
  });

  it('accepts only the exact username and password', () => {
    const expected = { username: 'hub', password: 'sécret' };
    expect(credentialsMatch(expected, 'hub', Buffer.from('sécret'))).to.equal(true);
    expect(credentialsMatch(expected, 'hub', Buffer.from('sécret '))).to.equal(false);
    expect(credentialsMatch(expected, 'Hub', Buffer.from('sécret'))).to.equal(false);
    expect(credentialsMatch(expected, undefined, undefined)).to.equal(false);
    expect(credentialsMatch({ username: '', password: '' }, undefined, undefined)).to.equal(false);
  });
});
