import type Srf from 'drachtio-srf';
import { rejectSpec, type RejectReason } from '../pipeline/reasons.js';
import type { Refusal } from '../pipeline/types.js';
import { releaseUnanswered } from '../types/drachtio.js';

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

/** Sends a final response some other way than through a drachtio-srf Response (see src/sip/unparseable.ts). */
export type RawAnswer = (status: number, phrase: string, headers: Record<string, string>) => void;

/**
 * Sends the one answer a refusal gets. A drop sends nothing and releases the request from
 * drachtio-srf's table of INVITEs awaiting an answer (drachtio-server forgets it by itself after
 * 64 s; see README "Hostile input").
 */
export function sendRefusal(res: Srf.SrfResponse, refusal: Refusal, retryAfterS: number): void {
  if (refusal.kind === 'drop') {
    releaseUnanswered(res);
    return;
  }
  answerRefusal((status, phrase, headers) => res.send(status, phrase, { headers }), refusal, retryAfterS);
}

/** The same answer, through a raw sender; a drop sends nothing. */
export function answerRefusal(answer: RawAnswer, refusal: Refusal, retryAfterS: number): void {
  if (refusal.kind === 'drop') return;
  const spec = rejectSpec(refusal.reason);
  answer(spec.status, spec.phrase, refusalHeaders(refusal.reason, retryAfterS, refusal.headers));
}
