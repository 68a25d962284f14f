import { MediaPolicyError, MediaUnavailableError } from '../media/anchor.js';
import { rejectSpec, type RejectReason } from '../pipeline/reasons.js';
import { refusalHeaders } from '../sip/replies.js';
/** What went wrong with one attempt to reach an agent or a carrier. */
export type FailureKind =
  | { readonly kind: 'media'; readonly reason: 'media_unavailable' | 'media_encryption_mismatch' }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'unreachable' }
  | { readonly kind: 'redis' }
  /** the answer could not be passed on: larger than what drachtio-server takes from the app */
  | { readonly kind: 'too_large' }
  | { readonly kind: 'internal' };

interface MaybeSipError {
  status?: unknown;
  name?: unknown;
  code?: unknown;
  message?: unknown;
  /** the response a SipError carries: its source address is empty when drachtio-server made it up */
  res?: { source_address?: unknown };
}

const REDIS_ERROR_NAMES = new Set(['ReplyError', 'MaxRetriesPerRequestError', 'AbortError']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT']);

/**
 * drachtio SipErrors carry the final status; a B leg that never got an answer from the network
 * comes back as 408 or 503 from drachtio, which failover treats like any status.
 */
export function classifyError(err: unknown, context: { timedOut?: boolean; cancelled?: boolean } = {}): FailureKind {
  if (context.cancelled) return { kind: 'cancelled' };
  if (context.timedOut) return { kind: 'timeout' };
  if (err instanceof MediaUnavailableError) return { kind: 'media', reason: 'media_unavailable' };
  if (err instanceof MediaPolicyError) return { kind: 'media', reason: 'media_encryption_mismatch' };
  const e = (err ?? {}) as MaybeSipError;
  if (e.name === 'MessageTooLargeError') return { kind: 'too_large' };
  if (typeof e.status === 'number' && e.status >= 300 && e.status <= 699) {
    // drachtio-server answers for a peer it could not reach (no connection, no answer): such a
    // response came from no network address
    if (e.res?.source_address === '') return e.status === 408 ? { kind: 'timeout' } : { kind: 'unreachable' };
    return { kind: 'status', status: e.status };
  }
  if (typeof e.name === 'string' && REDIS_ERROR_NAMES.has(e.name)) return { kind: 'redis' };
  if (typeof e.message === 'string' && /Command timed out|Connection is closed|enableOfflineQueue/.test(e.message)) return { kind: 'redis' };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return { kind: 'unreachable' };
  return { kind: 'internal' };
}

/** "408", "5xx" ... from config, against a failure. Timeouts and unreachable agents always fail over. */
export function failsOver(failure: FailureKind, failoverOn: readonly string[]): boolean {
  switch (failure.kind) {
    case 'timeout':
    case 'unreachable':
      return true;
    case 'cancelled':
    case 'redis':
    case 'too_large':
    case 'internal':
      return false;
    case 'media':
      // an agent whose media breaks its policy is like one that cannot take the call; a dead anchor is no agent's fault
      return failure.reason === 'media_encryption_mismatch';
    case 'status': {
      const code = String(failure.status);
      return failoverOn.some((rule) => rule === code || (rule.endsWith('xx') && rule[0] === code[0]));
    }
    default: {
      const never: never = failure;
      throw new Error(`unknown failure ${JSON.stringify(never)}`);
    }
  }
}

/** Who failed: an agent, the voicemail service, a carrier. */
export type CalledParty = 'agent' | 'voicemail' | 'carrier';

/** The stable reason sent with the caller's failure (X-Reject-Reason, Reason), from the reasons table. */
export function failureReason(failure: FailureKind, party: CalledParty): RejectReason {
  if (party === 'voicemail' && failure.kind !== 'too_large' && failure.kind !== 'cancelled') return 'voicemail_failed';
  const side = party === 'carrier' ? 'carrier' : 'agent';
  switch (failure.kind) {
    case 'timeout':
      return `${side}_timeout`;
    case 'unreachable':
      return `${side}_unreachable`;
    case 'status': {
      const s = failure.status;
      if (s === 408) return `${side}_timeout`;
      if (s === 486 || s === 600) return `${side}_busy`;
      if (s >= 500 && s < 600) return `${side}_unavailable`;
      return `${side}_rejected`;
    }
    case 'too_large':
      return 'agent_answer_too_large';
    case 'media':
      return failure.reason;
    case 'redis':
      return 'route_unavailable';
    case 'cancelled':
    case 'internal':
      return 'edge_error';
    default: {
      const never: never = failure;
      throw new Error(`unknown failure ${JSON.stringify(never)}`);
    }
  }
}

/** The status the caller gets when this was the last attempt. */
export function statusForCaller(failure: FailureKind): number {
  switch (failure.kind) {
    case 'status':
      return failure.status;
    case 'timeout':
      return 480;
    case 'cancelled':
      return 487;
    case 'unreachable':
      return 503;
    case 'redis':
      return 503;
    case 'too_large':
    case 'internal':
      return 500;
    case 'media':
      return rejectSpec(failure.reason).status;
    default: {
      const never: never = failure;
      throw new Error(`unknown failure ${JSON.stringify(never)}`);
    }
  }
}

