/**
 * The hub API under /passerelle/api, behind the editor's login (Node-RED admin auth; open
 * only in the loopback demo). The nurses' results board reads it.
 */
import express, { type RequestHandler, type Response } from 'express';
import type { RunningBroker } from '../adapters/bus';
import type { OutboundState, Store } from '../adapters/journal';
import { journalRepublish } from '../adapters/matching';
import { validateResult, type Patient, type Result } from '../adapters/model';
import { kickDestination } from '../adapters/delivery/registry';
import { readiness } from '../adapters/common/readiness';
import type { HubConfig } from './config';
import { streamChanges, type LiveFeed } from './pages/live';
import { MAX_DAYS, turnaroundReports } from './pages/turnaround';

export interface HubState {
  flowsRunning: boolean;
  startedAt: string;
  config: HubConfig;
  broker?: RunningBroker;
  store: Store;
  /** Publishes what the API journaled for the bus (the 'hub:api' outbox); set once the hub's bus client runs. */
  republish?: () => void;
  /** Tells the open pages what changed (GET /events); set once the hub's bus runs. */
  live?: LiveFeed;
  /** The destinations of the running flows, with the names the technician gave them. */
  destinations?: () => Array<{ id: string; name: string }>;
}

/** The outbox channel of results the API re-publishes (assigned by a person). */
export const API_OUTBOX_CHANNEL = 'hub:api';

type AssignedPatient = Omit<Patient, 'matched' | 'matchedBy'>;

const PATIENT_FIELDS = ['identifiers', 'name', 'birthName', 'birthDate', 'sex'];
const IDENTIFIER_FIELDS = ['value', 'type', 'authority', 'authorityName'];

/** The body of POST /results/:id/assign, checked; a string says what is wrong. */
function assignedPatient(body: unknown): AssignedPatient | string {
  const patient = (body as { patient?: unknown } | undefined)?.patient;
  if (typeof patient !== 'object' || patient === null || Array.isArray(patient)) return 'the body must be JSON {"patient": {"identifiers": [{"value": ..., "authority": ...}], "name"?, "birthDate"?, "sex"?}}';
  const p = patient as Record<string, unknown>;
  const unknown = Object.keys(p).filter((k) => !PATIENT_FIELDS.includes(k));
  if (unknown.length > 0) return `patient: unknown propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')} (allowed: ${PATIENT_FIELDS.join(', ')})`;
  if (!Array.isArray(p.identifiers) || p.identifiers.length === 0) return 'patient.identifiers: at least one identifier is required';
  for (const [index, identifier] of (p.identifiers as unknown[]).entries()) {
    if (typeof identifier !== 'object' || identifier === null) return `patient.identifiers[${index}]: an object {value, type?, authority?, authorityName?} is required`;
    const i = identifier as Record<string, unknown>;
    if (typeof i.value !== 'string' || i.value.trim() === '') return `patient.identifiers[${index}].value: a non-empty string is required`;
    for (const key of Object.keys(i)) {
      if (!IDENTIFIER_FIELDS.includes(key)) return `patient.identifiers[${index}]: unknown property ${key}`;
      if (typeof i[key] !== 'string') return `patient.identifiers[${index}].${key}: a string is required`;
    }
  }
  if (p.birthDate !== undefined && (typeof p.birthDate !== 'string' || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(p.birthDate))) return 'patient.birthDate: YYYY, YYYY-MM or YYYY-MM-DD';
  if (p.sex !== undefined && !['F', 'M', 'O', 'U'].includes(p.sex as string)) return 'patient.sex: one of F, M, O, U';
  return p as unknown as AssignedPatient;
}

type NeedsPermission = (permission: string) => RequestHandler;

const OUTBOUND_STATES: OutboundState[] = ['pending', 'sent', 'waiting', 'accepted', 'dead'];

/** ?limit= within [1, 500], 50 by default. */
function limitOf(raw: unknown): number {
  const value = Number(raw ?? 50);
  return Number.isInteger(value) ? Math.min(Math.max(value, 1), 500) : 50;
}

function text(raw: unknown): string | undefined {
  return typeof raw === 'string' && raw.length > 0 ? raw : undefined;
}

function fail(res: Response, status: number, error: string): void {
  res.status(status).json({ error });
}

export function hubApi(state: HubState, needsPermission: NeedsPermission): express.Router {
  const api = express.Router();
  const read = needsPermission('passerelle.read');
  const write = needsPermission('passerelle.write');

  api.get('/health', read, (_req, res) => {
    const nodes = readiness();
    const ok = state.flowsRunning && nodes.ready;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : nodes.failed.length > 0 ? 'failing' : 'starting',
      nodes,
      site: state.config.siteId,
      startedAt: state.startedAt,
      flows: state.flowsRunning ? 'running' : 'stopped',
      bus: state.broker ? { embedded: true, port: state.broker.port, clients: state.broker.clients() } : { embedded: false },
      demo: state.config.demo,
    });
  });

  api.get('/results', read, (req, res) => {
    const page = state.store.listResults({
      limit: limitOf(req.query.limit),
      before: text(req.query.before),
      deviceId: text(req.query.device),
      patient: text(req.query.patient),
    });
    res.json(page);
  });

  api.get('/events', read, (req, res) => streamChanges(state.live, req, res));

  api.get('/destinations', read, (_req, res) => {
    res.json({ destinations: state.destinations?.() ?? [] });
  });

  const turnaround = turnaroundReports(state.store, state.config.timeZone);
  api.get('/turnaround', read, (req, res, next) => {
    const days = Number(req.query.days ?? 1);
    if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) return fail(res, 400, `days must be a whole number from 1 to ${MAX_DAYS}`);
    turnaround(days).then((report) => res.json(report), next);
  });

  api.get('/outbound', read, (req, res) => {
    const stateFilter = text(req.query.state) as OutboundState | undefined;
    if (stateFilter && !OUTBOUND_STATES.includes(stateFilter)) return fail(res, 400, `state must be one of ${OUTBOUND_STATES.join(', ')}`);
    const beforeId = req.query.before === undefined ? undefined : Number(req.query.before);
    const messages = state.store.listOutbound({ destination: text(req.query.destination), state: stateFilter, limit: limitOf(req.query.limit), beforeId });
    // Payloads carry patient data: the list gives metadata; the message itself is one more request.
    res.json({ messages: messages.map(({ payload: _payload, ...meta }) => meta) });
  });

  api.get('/unmatched', read, (req, res) => {
    res.json(state.store.listUnmatched({ limit: limitOf(req.query.limit), before: text(req.query.before) }));
  });

  api.post('/results/:id/assign', write, express.json({ limit: '64kb' }), (req, res) => {
    const patient = assignedPatient(req.body);
    if (typeof patient === 'string') return fail(res, 400, patient);
    const id = req.params.id;
    const current = state.store.getResult(id);
    if (!current) return fail(res, 404, `no result ${id}`);
    if (current.patient?.matched === true) return fail(res, 409, `result ${id} is already matched (by ${current.patient.matchedBy ?? 'device'}): it cannot be assigned`);
    let candidate: Result;
    try {
      // The assigned result must still be a valid canonical result (the schema says what a patient is).
      candidate = validateResult({ ...current, patient: { ...patient, matched: true, matchedBy: 'manual' } });
    } catch (err) {
      return fail(res, 400, `patient: ${(err as Error).message}`);
    }
    // One commit: the result gets its patient and goes in the outbox, to be published durably.
    const outcome = state.store.transaction(() => {
      const assigned = state.store.assignPatient(id, candidate.patient!, 'manual');
      if (assigned.status === 'assigned') journalRepublish(state.store, API_OUTBOX_CHANNEL, state.config.siteId, assigned.result);
      return assigned;
    });
    if (outcome.status === 'not-found') return fail(res, 404, `no result ${id}`);
    if (outcome.status === 'already-matched') return fail(res, 409, `result ${id} is already matched`);
    state.republish?.();
    state.live?.notify(id);
    res.status(202).json({ id, patient: outcome.result.patient, state: 'republished' });
  });

  // A body that is not JSON: say so plainly, as the other errors.
  api.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: Response, next: express.NextFunction) => {
    if (err.type === 'entity.parse.failed' || err.type === 'entity.too.large') return fail(res, err.status ?? 400, `the body must be JSON: ${err.message}`);
    next(err);
  });

  api.post('/outbound/:id/resend', write, (req, res) => {
    const id = Number(req.params.id);
    const message = Number.isInteger(id) ? state.store.getOutbound(id) : undefined;
    if (!message) return fail(res, 404, `no outbound message ${req.params.id}`);
    if (message.state !== 'accepted' && message.state !== 'dead') return fail(res, 409, `message ${id} is ${message.state}: only accepted or dead messages can be re-sent`);
    state.store.resend(id);
    kickDestination(message.destination);
    res.status(202).json({ id, controlId: message.controlId, state: 'pending' });
  });

  return api;
}
