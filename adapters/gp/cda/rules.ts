/**
 * The CR-BIO rules that can be run here without the ANS schematron (not available offline):
 * the ones research §4 quotes from CI-SIS_BIO-CR-BIO_2022.01.sch, checked on what the reader
 * gives back. Each broken rule is one line. docs/gp.md lists what is not checked.
 */
import type { XmlElement } from '../../poct1a/xml';
import type { CdaDocument } from './reader';
import * as F from './format-details';

const INTERPRETATIONS = new Set(['L', 'H', 'LL', 'HH', '<', '>', 'N', 'A', 'AA', 'U', 'D', 'B', 'W']);

export function checkCrBioRules(doc: CdaDocument): string[] {
  const broken: string[] = [];
  const rule = (ok: boolean, text: string) => { if (!ok) broken.push(text); };
  const root = doc.root;
  const child = (parent: XmlElement | undefined, name: string) => parent?.children.find((c) => c.name === name);
  rule(child(root, 'realmCode')?.attributes.code === F.REALM, 'realmCode must be FR');
  rule(child(root, 'typeId')?.attributes.extension === F.TYPE_ID.extension, 'typeId must be POCD_HD000040');
  for (const t of F.DOCUMENT_TEMPLATES) rule(doc.templates.includes(t.root), `document templateId ${t.root} missing`);
  rule(doc.code === F.DOCUMENT_CODE.code && child(root, 'code')?.attributes.codeSystem === F.LOINC, 'document code must be LOINC 11502-2');
  rule(doc.title === F.DOCUMENT_TITLE, `title must be "${F.DOCUMENT_TITLE}"`);
  rule(!!doc.setId && !!doc.version, 'setId and versionNumber are required');
  const role = child(child(root, 'recordTarget'), 'patientRole');
  rule((role?.children ?? []).some((c) => c.name === 'id' && (c.attributes.root === F.INS_NIR_ROOT || c.attributes.nullFlavor)), 'patientRole needs the INS-NIR id (or a nullFlavor)');
  for (const tag of ['author', 'custodian', 'legalAuthenticator']) rule(!!child(root, tag), `${tag} is required`);
  const authenticator = child(root, 'authenticator');
  rule(child(authenticator, 'templateId')?.attributes.root === F.AUTHENTICATOR_TEMPLATE && !!child(authenticator, 'time'), 'authenticator needs templateId 1.3.6.1.4.1.19376.1.3.3.1.5 and a time');
  rule(doc.gpFunction === F.GP_PARTICIPANT.functionCode, 'the GP participant (INF, functionCode PCP) is missing');
  const serviceEvent = child(child(root, 'documentationOf'), 'serviceEvent');
  rule(!!child(serviceEvent, 'lab:statusCode'), 'serviceEvent needs lab:statusCode');
  rule(child(child(serviceEvent, 'performer'), 'templateId')?.attributes.root === F.PERFORMER_TEMPLATE, 'serviceEvent performer needs templateId 1.3.6.1.4.1.19376.1.3.3.1.7');
  rule(doc.results.length > 0, 'the body has no observation');
  doc.results.forEach((r, i) => {
    const at = `observation ${i + 1}`;
    for (const t of F.OBSERVATION_TEMPLATES) rule(r.templates.includes(t), `${at}: templateId ${t} missing`);
    if (r.codeSystem === F.LOINC) rule(!!r.code && !!r.label, `${at}: a LOINC code needs @code, @displayName and @codeSystem`);
    else rule(!!r.localCode, `${at}: without LOINC, the local code goes in <translation>`);
    rule(r.narrative.length > 0, `${at}: text/reference does not point at a row of the section's narrative`);
    rule(r.flags.every((f) => INTERPRETATIONS.has(f)), `${at}: interpretationCode outside ObservationInterpretation`);
    if (r.valueType === 'PQ' || r.valueType === 'IVL_PQ') rule(!!r.unit, `${at}: a physical quantity needs a unit`);
  });
  return broken;
}
