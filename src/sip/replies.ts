import type Srf from 'drachtio-srf';
import { rejectSpec, type RejectReason } from '../pipeline/reasons.js';
import type { Refusal } from '../pipeline/types.js';

/** The headers of a refusal: stable reason code in X-Reject-Reason and Reason, plus the spec's extras. */
export function refusalHeaders(reason: RejectReason, retryAfterS: number, extra?: Readonly<Record<string, string>>, status?: number): Record<string, string> {
  const spec = rejectSpec(reason);
  const headers: Record<string, string> = {
    'X-Reject-Reason': reason,
    Reason: `SIP;cause=${status ?? spec.status};text="${reason}"`,
    ...extra,
  };
  if (spec.retryAfter) headers['Retry-After'] = String(retryAfterS);
  if (spec.warning) headers.Warning = `${spec.warning.code} sip-edge "${spec.warning.text}"`;
  return headers;
}

/** Sends the one answer a refusal gets; a drop sends nothing. */
export function sendRefusal(res: Srf.SrfResponse, refusal: Refusal, retryAfterS: number): void {
  if (refusal.kind === 'drop') return;
  const spec = rejectSpec(refusal.reason);
  res.send(spec.status, spec.phrase, { headers: refusalHeaders(refusal.reason, retryAfterS, refusal.headers) });
}
