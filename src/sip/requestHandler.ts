import type Srf from 'drachtio-srf';
import type { Logger } from '../observability/logger.js';
import type { LogBudget } from '../observability/logBudget.js';
import type { Metrics } from '../observability/metrics.js';
import { evaluateRequest, type RequestOutcome, type RequestPipelineDeps } from '../pipeline/requests.js';
import { ALLOW_ALL } from '../pipeline/steps/protocol.js';
import { reject } from '../pipeline/types.js';
import { sendRefusal } from './replies.js';
import { viewOf } from './requestView.js';

export interface RequestHandlerDeps {
  readonly pipeline: RequestPipelineDeps;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly logBudget: LogBudget;
  readonly retryAfterS: number;
  /** true while the edge drains for shutdown: OPTIONS pings get 503 so carriers move on */
  readonly draining: () => boolean;
}

/** The methods drachtio-server hands to an app outside a dialog, besides INVITE. */
export const NON_INVITE_METHODS = ['options', 'register', 'subscribe', 'publish', 'message', 'info', 'notify'] as const;
export type NonInviteMethod = (typeof NON_INVITE_METHODS)[number];

function methodLabel(method: string): NonInviteMethod | 'other' {
  const m = method.toLowerCase();
  return (NON_INVITE_METHODS as readonly string[]).includes(m) ? (m as NonInviteMethod) : 'other';
}

/**
 * The drachtio adapter for every request outside a dialog that is not an INVITE: runs the
 * request pipeline and sends its one answer (200 to OPTIONS, the refusal otherwise, nothing for
 * a drop), counts it and logs refusals within the log budget (a scanner's REGISTER sweep is
 * counted, not written line by line).
 */
export function handleRequest(deps: RequestHandlerDeps, req: Srf.SrfRequest, res: Srf.SrfResponse): void {
  const view = viewOf(req);
  const method = methodLabel(view.method);
  let outcome: RequestOutcome = evaluateRequest(view, deps.pipeline);
  if (outcome.kind === 'accept' && deps.draining()) outcome = { ...reject('draining', 'edge is shutting down'), step: 'method' };
  if (outcome.kind === 'accept') {
    res.send(200, { headers: { Allow: ALLOW_ALL, Accept: 'application/sdp' } });
    deps.metrics.requests.inc({ method, outcome: 'answered' });
    return;
  }
  sendRefusal(res, outcome, deps.retryAfterS);
  const result = outcome.kind === 'drop' ? 'dropped' : 'rejected';
  deps.metrics.requests.inc({ method, outcome: result });
  deps.metrics.rejections.inc({ reason: outcome.reason });
  const budget = deps.logBudget.take(outcome.reason);
  if (budget) {
    deps.logger.info(
      {
        method,
        reason: outcome.reason,
        step: outcome.step,
        trunkId: outcome.trunk?.id,
        source: view.sourceAddress,
        detail: outcome.detail,
        ...(budget.suppressed > 0 ? { suppressedSinceLast: budget.suppressed } : {}),
      },
      `request ${result}`,
    );
  }
}
