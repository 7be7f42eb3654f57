import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResult, validateResult, InvalidResultError, topicFor, parseTopic, resultFilter, type Result } from '../../adapters/model';

const examplePath = join(__dirname, '..', '..', '..', 'docs', 'schema', 'result.example.json');

describe('canonical result v1', () => {
  const example = (): Result => JSON.parse(readFileSync(examplePath, 'utf8')) as Result;

  it('accepts the documented example, accents and all', () => {
    const result = parseResult(readFileSync(examplePath));
    expect(result.patient?.name?.family).to.equal('NOËL');
    expect(result.patient?.name?.given).to.deep.equal(['Hélène', 'Françoise']);
    expect(result.observations.map((o) => o.deviceCode.code)).to.deep.equal(['WBC', 'HGB', 'PLT', 'CRP', 'MORPHO']);
  });

  it('names every problem of an invalid result', () => {
    const bad = example() as unknown as Record<string, unknown>;
    delete bad.id;
    (bad.observations as Array<Record<string, unknown>>)[0].value = 'twelve';
    try {
      validateResult(bad);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(InvalidResultError);
      const problems = (err as InvalidResultError).problems.join('\n');
      expect(problems).to.contain("must have required property 'id'");
      expect(problems).to.contain('/observations/0/value must be number');
    }
  });

  it('refuses bytes that are not JSON with a clear error', () => {
    expect(() => parseResult(Buffer.from('{"schema": '))).to.throw(InvalidResultError, /not JSON/);
  });

  it('refuses an unknown schema version', () => {
    const bad = { ...example(), schema: 'passerelle.result/2' };
    expect(() => validateResult(bad)).to.throw(InvalidResultError, /schema/);
  });

  it('builds and reads topics in the v1 namespace, defusing wildcards', () => {
    const topic = topicFor({ site: 'cso-annecy', kind: 'biology', source: 'afinion/1+#', event: 'result' });
    expect(topic).to.equal('passerelle/v1/cso-annecy/biology/afinion_1__/result');
    expect(parseTopic(topic)).to.deep.equal({ site: 'cso-annecy', kind: 'biology', source: 'afinion_1__', event: 'result' });
    expect(parseTopic('other/v1/a/b/c/result')).to.equal(undefined);
    expect(resultFilter('cso-annecy')).to.equal('passerelle/v1/cso-annecy/+/+/result');
  });
});
