import { randomBytes } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { CallbackDispatcher } from '../callbacks/dispatcher.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { evaluateOutbound, type OutboundPipelineDeps } from '../pipeline/outbound.js';
import { rejectSpec, type RejectReason } from '../pipeline/reasons.js';
import type { OutboundPlan } from '../pipeline/types.js';
import type { ApiCallStore } from '../stores/apiCallRecords.js';
import type { RedisClient } from '../stores/redis.js';
import type { ActiveCalls } from './activeCalls.js';
import type { ApiCallDialer, DialProgress } from './apiCallDial.js';
import { agentHeaders, endReasonOf, requestFingerprint, requestView, type ApiCallRequest } from './apiCallRequest.js';
import { applyApiCallEvent, isTerminal, queuedRecord, type ApiCallEvent, type ApiCallRecord } from './apiCallState.js';
import type { ReferHandler } from './dialogs.js';
import type { CallLifecycle, LifecycleListener } from './lifecycle.js';
import { CallSession } from './session.js';

export { METADATA_HEADER_PREFIX, type ApiCallRequest } from './apiCallRequest.js';

export type CreateOutcome =
  | { readonly kind: 'created'; readonly record: ApiCallRecord; /** the Idempotency-Key's earlier call */ readonly replayed: boolean }
  | { readonly kind: 'refused'; readonly reason: RejectReason; readonly detail: string }
  | { readonly kind: 'idempotency_mismatch' }
  | { readonly kind: 'idempotency_in_progress' }
  | { readonly kind: 'callbacks_not_configured' };

export type HangupOutcome = { readonly kind: 'not_found' } | { readonly kind: 'ended' | 'requested'; readonly record: ApiCallRecord };

export interface ApiCallSettings {
  readonly instanceId: string;
  /** sip.outbound_ring_timeout_s: the destination's ring timeout when the request gives none */
  readonly defaultRingTimeoutS: number;
  readonly agentRingTimeoutS: number;
  readonly defaultMaxDurationS: number;
  readonly maxMessageBytes: number;
}

export interface ApiCallsDeps {
  readonly outbound: OutboundPipelineDeps;
  readonly store: ApiCallStore;
  readonly dialer: ApiCallDialer;
  readonly lifecycle: CallLifecycle;
  readonly activeCalls: ActiveCalls;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** null when callbacks.secret is not configured */
  readonly callbacks: CallbackDispatcher | null;
  readonly settings: ApiCallSettings;
  readonly draining: () => boolean;
  /** transfers asked by the agent with REFER, as on its own calls */
  readonly referHandler?: (session: CallSession, agentId: string, callerE164: string, log: Logger) => ReferHandler;
  readonly now?: () => number;
}

interface Running {
  record: ApiCallRecord;
  readonly session: CallSession;
  /** DELETE asked for the end: the session's end is reported as api_hangup */
  hangupRequested: boolean;
  sequence: number;
  /** record writes of this call, in order */
  writes: Promise<void>;
}

const newCallId = (): string => `call_${randomBytes(12).toString('base64url')}`;

/**
 * Calls placed through the admin API: the outbound policy (the agent's own pipeline, so every
 * rule, do-not-call lists included, is the same), the call's record in Redis (any instance answers
 * GET; DELETE reaches the carrying instance over pub/sub), its status callbacks, and the
 * CallSession that billing, limits and active calls hang off, exactly as for a SIP call.
 */
export class ApiCalls {
  private readonly running = new Map<string, Running>();
  private readonly outcomes: Counter<'outcome'>;
  private readonly now: () => number;
  private listening = false;

  constructor(
    private readonly deps: ApiCallsDeps,
    registry: Registry,
  ) {
    this.now = deps.now ?? Date.now;
    this.outcomes = new Counter({
      name: 'sip_edge_api_calls_total',
      help: 'POST /v1/calls and the calls it placed: created, replayed (Idempotency-Key seen before), refused (by reason in sip_edge_rejections_total), completed, failed',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  }

  /** The session end of every call this instance placed through the API (attach to the CallLifecycle). */
  readonly listener: LifecycleListener = {
    ended: (call, end) => {
      const running = this.running.get(call.callId);
      if (!running) return;
      this.apply(running, { kind: 'ended', reason: running.hangupRequested ? 'api_hangup' : endReasonOf(end.cause), ...(end.status !== undefined ? { sipStatus: end.status } : {}) });
    },
  };

  /** Listens for hang-up requests of other instances (their DELETE for a call this one carries). */
  async start(subscriber: RedisClient, channel: string): Promise<void> {
    if (!this.listening) {
      this.listening = true;
      subscriber.on('message', (from: string, id: string) => {
        if (from !== channel) return;
        const running = this.running.get(id);
        if (running) this.hangupLocal(running);
      });
    }
    // ioredis subscribes again by itself after a reconnect
    await subscriber.subscribe(channel);
  }

  async create(req: ApiCallRequest, idempotencyKey: string | undefined): Promise<CreateOutcome> {
    if (req.status_callback !== undefined && this.deps.callbacks === null) return { kind: 'callbacks_not_configured' };
    if (this.deps.draining()) return this.refuse(req, 'draining', 'edge is shutting down');
    const id = newCallId();
    if (idempotencyKey !== undefined) {
      const fingerprint = requestFingerprint(req);
      let claim;
      try {
        claim = await this.deps.store.claimIdempotency(req.workspace_id, idempotencyKey, id, fingerprint);
      } catch (err) {
        return this.refuse(req, 'route_unavailable', `idempotency keys unavailable: ${(err as Error).message}`);
      }
      if (!claim.claimed) {
        if (claim.fingerprint !== fingerprint) return { kind: 'idempotency_mismatch' };
        const earlier = this.running.get(claim.callId)?.record ?? (await this.deps.store.get(claim.callId));
        if (!earlier) return { kind: 'idempotency_in_progress' };
        this.outcomes.inc({ outcome: 'replayed' });
        return { kind: 'created', record: earlier, replayed: true };
      }
    }
    const outcome = await this.place(id, req).catch((err: unknown): CreateOutcome => {
      this.deps.logger.error({ err, callId: id }, 'API call failed unexpectedly');
      return { kind: 'refused', reason: 'route_unavailable', detail: 'internal error' };
    });
    if (outcome.kind !== 'created' && idempotencyKey !== undefined) {
      // refused: a retry with the same key is evaluated again (a limit may have cleared)
      await this.deps.store.releaseIdempotency(req.workspace_id, idempotencyKey, id).catch(() => undefined);
    }
    return outcome;
  }

  async get(id: string): Promise<ApiCallRecord | null> {
    return this.running.get(id)?.record ?? this.deps.store.get(id);
  }

  /** DELETE: ends a call this instance carries at once, or asks the instance that does. */
  async hangup(id: string): Promise<HangupOutcome> {
    const running = this.running.get(id);
    if (running) {
      this.hangupLocal(running);
      return { kind: 'ended', record: running.record };
    }
    const record = await this.deps.store.get(id);
    if (!record) return { kind: 'not_found' };
    if (isTerminal(record.state)) return { kind: 'ended', record };
    await this.deps.store.publishHangup(id);
    return { kind: 'requested', record };
  }

  private hangupLocal(running: Running): void {
    const { session } = running;
    if (running.record.state === 'answered') {
      running.hangupRequested = true;
      // BYE on both legs once bridged; while the agent still rings, the dialer cancels it and BYEs the destination
      void session.terminate('caller_hangup');
      return;
    }
    this.apply(running, { kind: 'ended', reason: 'cancelled', sipStatus: 487 });
    session.end('cancelled', 487);
  }

  private async place(id: string, req: ApiCallRequest): Promise<CreateOutcome> {
    const { outbound } = this.deps;
    const agent = await outbound.store.agent(req.agent_id);
    if (agent.status === 'unavailable') return this.refuse(req, 'route_unavailable', `route store unavailable: ${agent.error.message}`);
    if (agent.status === 'absent' || agent.value.workspace_id !== req.workspace_id) {
      return this.refuse(req, 'agent_not_found', `agent ${req.agent_id} does not exist in workspace ${req.workspace_id}`);
    }
    const decision = await evaluateOutbound(requestView(id, req), outbound);
    if (decision.kind !== 'accept') return this.refuse(req, decision.reason, decision.detail, decision.trunk?.id ?? null);
    const { plan, lease } = decision;
    const now = this.now();
    const record = queuedRecord(
      {
        id,
        workspace_id: req.workspace_id,
        agent_id: agent.value.id,
        from_number: plan.callerNumber.phone_number,
        number_id: plan.callerNumber.id,
        to_number: plan.destination.e164,
        trunk_id: plan.trunk.id,
        metadata: req.metadata ?? {},
        status_callback: req.status_callback ?? null,
        instance_id: this.deps.settings.instanceId,
      },
      now,
    );
    try {
      await this.deps.store.save(record);
    } catch (err) {
      lease?.release();
      return this.refuse(req, 'route_unavailable', `call records unavailable: ${(err as Error).message}`, plan.trunk.id);
    }
    const session = this.startSession(record, plan);
    if (lease) session.onEnd(() => lease.release());
    this.outcomes.inc({ outcome: 'created' });
    setImmediate(() => this.dial(session, req, plan, agent.value.sip_uri));
    return { kind: 'created', record, replayed: false };
  }

  private startSession(record: ApiCallRecord, plan: OutboundPlan): CallSession {
    const session = new CallSession(
      {
        callId: record.id,
        direction: 'outbound',
        workspaceId: record.workspace_id,
        trunkId: plan.trunk.id,
        trunkKind: plan.trunk.kind,
        numberId: plan.callerNumber.id,
        telephony: plan.callerNumber.telephony,
        agentId: record.agent_id,
        from: record.from_number,
        to: record.to_number,
        browserTest: false,
        startedAt: Date.parse(record.created_at),
      },
      this.deps.lifecycle,
    );
    const running: Running = { record, session, hangupRequested: false, sequence: 0, writes: Promise.resolve() };
    this.running.set(record.id, running);
    this.notify(running);
    this.deps.activeCalls.track(session);
    this.deps.metrics.activeCalls.inc({ direction: 'outbound' });
    session.onEnd(() => this.deps.metrics.activeCalls.dec({ direction: 'outbound' }));
    return session;
  }

  private dial(session: CallSession, req: ApiCallRequest, plan: OutboundPlan, agentUri: string): void {
    const running = this.running.get(session.info.callId);
    if (!running || session.state === 'ended') return;
    const { settings } = this.deps;
    const log = this.deps.logger.child({ callId: session.info.callId, direction: 'outbound-api', trunkId: plan.trunk.id, workspaceId: plan.callerNumber.workspace_id, numberId: plan.callerNumber.id });
    const trunkMaxS = plan.trunk.max_call_duration_s ?? settings.defaultMaxDurationS;
    const progress: DialProgress = {
      dialing: () => this.apply(running, { kind: 'dialing' }),
      ringing: () => this.apply(running, { kind: 'ringing' }),
      answered: () => this.apply(running, { kind: 'answered' }),
      bridged: () => this.apply(running, { kind: 'agent_answered' }),
      ended: (reason, statuses) => this.apply(running, { kind: 'ended', reason, ...statuses }),
    };
    const onRefer = this.deps.referHandler?.(session, plan.agent.id, plan.callerNumber.phone_number, log);
    this.deps
      .dialer(
        session,
        {
          plan,
          agentUri,
          agentHeaders: agentHeaders(running.record, plan),
          destinationRingTimeoutMs: (req.ring_timeout_s ?? settings.defaultRingTimeoutS) * 1000,
          agentRingTimeoutMs: settings.agentRingTimeoutS * 1000,
          maxDurationMs: Math.min(req.max_duration_s ?? trunkMaxS, trunkMaxS) * 1000,
          maxMessageBytes: settings.maxMessageBytes,
          ...(onRefer ? { onRefer } : {}),
        },
        progress,
        log,
      )
      .catch((err: unknown) => {
        log.error({ err }, 'API call failed unexpectedly');
        this.apply(running, { kind: 'ended', reason: 'error' });
        void session.terminate('error');
      });
  }

  /** One event on one call: the record moves (or not), is written in order, and its callback queued. */
  private apply(running: Running, event: ApiCallEvent): void {
    const next = applyApiCallEvent(running.record, event, this.now());
    if (!next) return;
    running.record = next;
    const write = running.writes.then(() => this.deps.store.save(next));
    running.writes = write.catch((err: unknown) => this.deps.logger.warn({ callId: next.id, state: next.state, err: { message: (err as Error).message } }, 'API call record not written'));
    if (event.kind !== 'agent_answered') this.notify(running);
    if (isTerminal(next.state)) {
      this.outcomes.inc({ outcome: next.state });
      // the record stays readable here until Redis has it
      void running.writes.then(() => {
        if (this.running.get(next.id) === running) this.running.delete(next.id);
      });
    }
  }

  private notify(running: Running): void {
    const { record } = running;
    if (record.status_callback === null || this.deps.callbacks === null) return;
    const sequence = ++running.sequence;
    const eventId = `${record.id}:${sequence}`;
    const body = JSON.stringify({ event_id: eventId, sequence, state: record.state, occurred_at: new Date(this.now()).toISOString(), call: record });
    this.deps.callbacks.enqueue(record.id, record.status_callback, body, eventId);
  }

  private refuse(req: ApiCallRequest, reason: RejectReason, detail: string, trunkId: string | null = null): CreateOutcome {
    this.outcomes.inc({ outcome: 'refused' });
    this.deps.metrics.rejections.inc({ reason });
    this.deps.logger.info({ reason, workspaceId: req.workspace_id, agentId: req.agent_id, trunkId, detail }, 'API call refused');
    this.deps.lifecycle.rejected({
      callId: `api-refused-${randomBytes(8).toString('hex')}`,
      direction: 'outbound',
      reason,
      status: rejectSpec(reason).status,
      trunkId,
      workspaceId: req.workspace_id,
      from: req.from_number,
      to: req.to_number,
      at: this.now(),
    });
    return { kind: 'refused', reason, detail };
  }
}
