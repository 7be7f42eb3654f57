import { expect } from 'chai';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { join } from 'node:path';
import { GpReadError, planReports, readCdaCrBio, writeCdaCrBio, uuidOid } from '../../../adapters/gp';
import { crBioPackage, insQualified, readXdm, writeXdm, xdmFormat as F, type XdmPackage } from '../../../adapters/gp/xdm';
import { cdaOptions, exampleResult, NOW } from './fixtures';
import { xmllintProblems } from './support';

async function unzipAll(bytes: Buffer): Promise<Map<string, Buffer>> {
  const read = await readXdm(bytes);
  const files = new Map<string, Buffer>([[F.INDEX_FILE, Buffer.from(read.index)], [F.README_FILE, Buffer.from(read.readme)]]);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.fromBuffer(bytes, { lazyEntries: false }, (e, z) => (e ? reject(e) : resolve(z!))));
  await new Promise<void>((resolve, reject) => {
    let pending = 0;
    let ended = false;
    zip.on('entry', (entry: yauzl.Entry) => {
      pending++;
      zip.openReadStream(entry, (e, stream) => {
        if (e) return reject(e);
        const chunks: Buffer[] = [];
        stream!.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
          files.set(entry.fileName, Buffer.concat(chunks));
          if (--pending === 0 && ended) resolve();
        });
      });
    });
    zip.on('end', () => { ended = true; if (pending === 0) resolve(); });
    zip.on('error', reject);
  });
  return files;
}

function zipAll(files: Map<string, Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of files) zip.addBuffer(bytes, name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve) => zip.outputStream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))));
}

const ROUND_TRIPS = 150;
const DAMAGED = 600;

function examplePackage(): { pkg: XdmPackage; cda: Buffer } {
  const report = planReports([exampleResult()]).reports[0];
  const cda = writeCdaCrBio(report, cdaOptions);
  return { pkg: crBioPackage(report, cda, { organization: cdaOptions.organization, responsible: cdaOptions.responsible, product: 'Passerelle 0.1.0', now: NOW }), cda: cda.bytes };
}

describe('gp/xdm: IHE_XDM.ZIP', () => {
  it("packs the CR-BIO with INDEX.HTM, README.TXT and METADATA.XML that Python's zipfile reads", async () => {
    const { pkg, cda } = examplePackage();
    const written = await writeXdm(pkg);
    expect(written.fileName).to.equal('IHE_XDM.ZIP');
    expect(written.cdaCodes).to.deep.equal(['11502-2']);
    const dir = mkdtempSync(join(tmpdir(), 'xdm-'));
    try {
      const zip = join(dir, 'IHE_XDM.ZIP');
      writeFileSync(zip, written.bytes);
      // python's zipfile: a reader no one here wrote.
      const listing = execFileSync('/usr/bin/python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("\\n".join(z.namelist()))', zip], { encoding: 'utf8' });
      expect(listing.trim().split('\n')).to.deep.equal(['INDEX.HTM', 'README.TXT', 'IHE_XDM/SUBSET01/METADATA.XML', 'IHE_XDM/SUBSET01/DOC0001.XML']);
      const doc = execFileSync('/usr/bin/python3', ['-c', 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))', zip, 'IHE_XDM/SUBSET01/DOC0001.XML']);
      expect(doc.equals(cda)).to.equal(true);
      const metadata = execFileSync('/usr/bin/python3', ['-c', 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))', zip, F.METADATA_FILE]);
      expect(xmllintProblems(metadata)).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads back the submission set and the document entry: ids, hash, size, codes, INS, author, recipient', async () => {
    const { pkg, cda } = examplePackage();
    const read = await readXdm((await writeXdm(pkg)).bytes);
    const report = planReports([exampleResult()]).reports[0];
    expect(read.submissionSet.patientId).to.equal('284037512345678^^^&1.2.250.1.213.1.4.8&ISO^NH');
    expect(read.submissionSet.intendedRecipient).to.equal('|10100987654^LEFÈVRE^Benoît^^^Dr^^^&1.2.250.1.71.4.2.1&ISO|^^Internet^benoit.lefevre@medecin.mssante.fr');
    expect(read.submissionSet.submissionTime).to.equal('20261123085000');
    expect(read.submissionSet.contentTypeCode?.code).to.equal('11502-2');
    expect(read.documents).to.have.length(1);
    const [entry] = read.documents;
    expect(entry.bytes.equals(cda)).to.equal(true);
    expect(entry.uniqueId).to.equal(uuidOid(report.documentId));
    expect(readCdaCrBio(entry.bytes).root.children.find((c) => c.name === 'id')?.attributes.root).to.equal(entry.uniqueId);
    expect(entry.size).to.equal(String(cda.length));
    expect(entry.hash).to.match(/^[0-9a-f]{40}$/);
    expect(entry.mimeType).to.equal('text/xml');
    expect(entry.typeCode).to.deep.equal({ code: '11502-2', scheme: '2.16.840.1.113883.6.1', display: "CR d'examens biologiques" });
    expect(entry.formatCode?.code).to.equal(F.CR_BIO.formatCode.code);
    expect(entry.classCode?.code).to.equal(F.CR_BIO.classCode.code);
    expect(entry.confidentialityCode?.code).to.equal('N');
    expect(entry.patientId).to.equal(F.patientCx('284037512345678'));
    expect(entry.sourcePatientInfo).to.deep.equal(['PID-3|284037512345678^^^&1.2.250.1.213.1.4.8&ISO^NH', 'PID-5|LEFÈVRE^Hélène^^^^^L', 'PID-7|19840312', 'PID-8|F']);
    expect(entry.authorPerson).to.equal('10101111111^ROUSSEAU^Maëlle^^^Dr^^^&1.2.250.1.71.4.2.1&ISO');
    expect(entry.authorInstitution).to.contain('Centre de soins non programmés d’Annecy');
    expect(read.readme).to.contain('IHE_XDM/SUBSET01/DOC0001.XML');
    expect(read.index).to.contain('href="IHE_XDM/SUBSET01/DOC0001.XML"');
    expect(insQualified(pkg.patient)).to.equal(true);
  });

  it('makes the same bytes for the same package (a retry sends the same attachment)', async () => {
    const { pkg } = examplePackage();
    expect((await writeXdm(pkg)).bytes.equals((await writeXdm(pkg)).bytes)).to.equal(true);
  });

  it('refuses a patient without INS, and a package whose document does not match its hash', async () => {
    const result = exampleResult();
    result.patient!.identifiers = result.patient!.identifiers.filter((i) => i.type !== 'INS-NIR');
    const report = planReports([result]).reports[0];
    expect(() => crBioPackage(report, writeCdaCrBio(report, cdaOptions), { ...cdaOptions, product: 'x' })).to.throw(/INS/);
    // The metadata of one package beside the document of another: the hash check must see it.
    const { pkg } = examplePackage();
    const other = { ...pkg, documents: [{ ...pkg.documents[0], bytes: Buffer.from(pkg.documents[0].bytes.toString('utf8').replace('Leucocytes', 'leucocytes')) }] };
    const good = await unzipAll((await writeXdm(pkg)).bytes);
    const swapped = await unzipAll((await writeXdm(other)).bytes);
    good.set('IHE_XDM/SUBSET01/DOC0001.XML', swapped.get('IHE_XDM/SUBSET01/DOC0001.XML')!);
    await readXdm(await zipAll(good)).then(() => expect.fail('read a package whose document does not match'), (err: Error) => {
      expect(err).to.be.instanceOf(GpReadError);
      expect(err.message).to.match(/hash does not match/);
    });
  });

  it(`round-trips ${ROUND_TRIPS} random packages (names, titles, several documents)`, async () => {
    const text = fc.string({ unit: fc.constantFrom(...Array.from('aéÈŒœ ç<>&"\'|^~\\中😀')), minLength: 1, maxLength: 20 });
    await fc.assert(fc.asyncProperty(text, text, fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 3 }), async (family, title, docs) => {
      const { pkg } = examplePackage();
      pkg.patient.family = family;
      pkg.documents = docs.map((d, i) => ({ ...pkg.documents[0], bytes: Buffer.from(d), title: `${title}${i}`, extension: i === 0 ? 'XML' : 'PDF' }));
      const read = await readXdm((await writeXdm(pkg)).bytes);
      expect(read.documents.map((d) => d.bytes.toString('hex'))).to.deep.equal(docs.map((d) => Buffer.from(d).toString('hex')));
      expect(read.documents.map((d) => d.title)).to.deep.equal(docs.map((_, i) => `${title}${i}`));
      expect(read.documents[0].sourcePatientInfo[1]).to.equal(`PID-5|${family}^Hélène^^^^^L`);
    }), { numRuns: ROUND_TRIPS });
  });

  it(`reads ${DAMAGED} damaged packages as a reading or a GpReadError, never another error`, async () => {
    const { pkg } = examplePackage();
    const good = (await writeXdm(pkg)).bytes;
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length), async (changes, cut) => {
      const bad = Buffer.from(good.subarray(0, Math.max(cut, good.length - 40)));
      for (const [at, value] of changes) if (at < bad.length) bad[at] = value;
      try {
        await readXdm(bad);
      } catch (err) {
        expect(err).to.be.instanceOf(GpReadError);
      }
    }), { numRuns: DAMAGED });
  });
});
