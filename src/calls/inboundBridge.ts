import type Srf from 'drachtio-srf';
import type { Logger } from '../observability/logger.js';
import type { InboundPlan } from '../pipeline/types.js';
import { createB2BUA, emitting, type CancellableRequest } from '../types/drachtio.js';
import { classifyError, failsOver, statusForCaller, type FailureKind } from './classify.js';
import { attachDialogs } from './dialogs.js';
import type { CallSession } from './session.js';

export type BridgeOutcome = 'answered' | 'failed' | 'cancelled';

export interface BridgeSettings {
  readonly ringTimeoutMs: number;
  readonly failoverOn: readonly string[];
  readonly voicemailUri: string | undefined;
  readonly maxCallDurationMs: number;
}

interface Attempt {
  readonly label: 'primary' | 'fallback' | 'voicemail';
  readonly uri: string;
  readonly headers: Record<string, string>;
}

/** Headers the agent receives: who the call is for, never what the carrier claimed in X- headers. */
export function agentHeaders(plan: InboundPlan, req: Srf.SrfRequest, agentId: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Workspace-Id': plan.number.workspace_id,
    'X-Number-Id': plan.number.id,
    'X-Trunk-Id': plan.trunk.id,
    'X-Original-Called': plan.did.raw,
    'X-Caller': plan.caller.e164 ?? plan.caller.raw,
  };
  if (agentId !== null) headers['X-Agent-Id'] = agentId;
  if (plan.trunk.inbound.trusted_identity) {
    for (const name of ['P-Asserted-Identity', 'Identity']) {
      if (req.has(name)) headers[name] = req.get(name);
    }
  }
  return headers;
}

function attemptsFor(plan: InboundPlan, req: Srf.SrfRequest, voicemailUri: string | undefined): Attempt[] {
  const attempts: Attempt[] = plan.targets.map((t) => ({
    label: t.role,
    uri: t.agent.sip_uri,
    headers: agentHeaders(plan, req, t.agent.id),
  }));
  if (voicemailUri && plan.voicemailMessage !== null) {
    attempts.push({
      label: 'voicemail',
      uri: voicemailUri,
      headers: { ...agentHeaders(plan, req, null), 'X-Voicemail-Message': plan.voicemailMessage },
    });
  }
  return attempts;
}

/**
 * Bridges an accepted inbound call: primary agent, then fallback, then voicemail, each with a ring
 * timeout; failover only on the configured failures. A CANCEL from the carrier cancels whichever
 * leg is ringing and ends the attempts.
 */
export async function bridgeInbound(
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  plan: InboundPlan,
  session: CallSession,
  settings: BridgeSettings,
  log: Logger,
): Promise<BridgeOutcome> {
  let cancelled = false;
  let ringingReq: CancellableRequest | null = null;
  const inbound = emitting(req);
  const b2bua = createB2BUA(srf);
  const onCancel = (): void => {
    cancelled = true;
    if (!ringingReq) {
      // Between attempts: nobody to CANCEL downstream, answer the INVITE ourselves.
      if (!res.finalResponseSent) res.send(487);
      session.end('cancelled', 487);
    }
  };

  const attempts = attemptsFor(plan, req, settings.voicemailUri);
  let last: FailureKind = { kind: 'internal' };
  for (const [index, attempt] of attempts.entries()) {
    if (cancelled) break;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    // createB2BUA adds its own CANCEL listener per attempt; ours must stay the only one between attempts.
    inbound.removeAllListeners('cancel');
    inbound.on('cancel', onCancel);
    try {
      const { uas, uac } = await b2bua(req, res, attempt.uri, {
        headers: attempt.headers,
        passFailure: false,
        proxyRequestHeaders: [],
      }, {
        cbRequest: (_err, uacReq) => {
          ringingReq = uacReq;
          timer = setTimeout(() => {
            timedOut = true;
            uacReq.cancel(() => undefined);
          }, settings.ringTimeoutMs);
        },
        cbProvisional: () => session.ringing(),
      });
      clearTimeout(timer);
      ringingReq = null;
      if (cancelled) {
        uas.destroy();
        uac.destroy();
        session.end('cancelled', 487);
        return 'cancelled';
      }
      session.answered();
      log.info({ target: attempt.label, agentUri: attempt.uri }, 'call answered');
      attachDialogs(uas, uac, session, settings.maxCallDurationMs, log);
      return 'answered';
    } catch (err) {
      clearTimeout(timer);
      ringingReq = null;
      last = classifyError(err, { timedOut, cancelled });
      log.info({ target: attempt.label, failure: last }, 'agent attempt failed');
      if (last.kind === 'cancelled') break;
      const hasNext = index < attempts.length - 1;
      if (!hasNext || !failsOver(last, settings.failoverOn)) break;
    }
  }

  const status = statusForCaller(last);
  if (!res.finalResponseSent) res.send(status);
  const cancelledCall = last.kind === 'cancelled' || cancelled;
  session.end(cancelledCall ? 'cancelled' : 'failed', status);
  return cancelledCall ? 'cancelled' : 'failed';
}
