/**
 * The hub API under /passerelle/api, behind the editor's login (Node-RED admin auth; open
 * only in the loopback demo). The nurses' results board reads it.
 */
import express, { type RequestHandler, type Response } from 'express';
import type { RunningBroker } from '../adapters/bus';
import type { OutboundState, Store } from '../adapters/journal';
import { kickDestination } from '../adapters/delivery/registry';
import { readiness } from '../adapters/common/readiness';
import type { HubConfig } from './config';

export interface HubState {
  flowsRunning: boolean;
  startedAt: string;
  config: HubConfig;
  broker?: RunningBroker;
  store: Store;
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

  api.get('/outbound', read, (req, res) => {
    const stateFilter = text(req.query.state) as OutboundState | undefined;
    if (stateFilter && !OUTBOUND_STATES.includes(stateFilter)) return fail(res, 400, `state must be one of ${OUTBOUND_STATES.join(', ')}`);
    const beforeId = req.query.before === undefined ? undefined : Number(req.query.before);
    const messages = state.store.listOutbound({ destination: text(req.query.destination), state: stateFilter, limit: limitOf(req.query.limit), beforeId });
    // Payloads carry patient data: the list gives metadata; the message itself is one more request.
    res.json({ messages: messages.map(({ payload: _payload, ...meta }) => meta) });
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
