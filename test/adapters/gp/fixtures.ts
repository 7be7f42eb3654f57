/** Shared fixtures of the GP format tests: the documented example result, and writer options. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from '../../../adapters/model';
import type { CdaOptions, HprimMedecinOptions, HprimSanteOptions } from '../../../adapters/gp';
import type { GpSender } from '../../../adapters/gp/mail';

export const examplePath = join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'result.example.json');

/** A fresh copy of docs/schema/result.example.json: NOËL Hélène (born LEFÈVRE), prescriber Dr CŒURDEROY, GP Dr LEFÈVRE. */
export function exampleResult(): Result {
  return JSON.parse(readFileSync(examplePath, 'utf8')) as Result;
}

export const NOW = new Date('2026-11-23T08:50:00Z');
export const hprimMedecinOptions: HprimMedecinOptions = { sender: { code: 'CSOANNECY', name: 'CSNP Annecy' }, recipientCode: 'LEFEVREB' };
export const hprimSanteOptions: HprimSanteOptions = { sender: { code: 'CSO', name: 'CSNP Annecy' }, now: NOW };
export const cdaOptions: CdaOptions = {
  organization: { id: '740012345', name: 'Centre de soins non programmés d’Annecy' },
  responsible: { id: '10101111111', name: { family: 'ROUSSEAU', given: ['Maëlle'], prefix: 'Dr' } },
  ippRoot: '1.2.250.1.999.1.1',
  now: NOW,
};

/** The sending site of the GP mail and folder drop tests. */
export const SENDER: GpSender = { organization: cdaOptions.organization, responsible: cdaOptions.responsible, hprimCode: 'CSOANNECY', ippRoot: cdaOptions.ippRoot, product: 'Passerelle 0.1.0' };
