import type { Direction } from './policy.js';

export interface MediaTimeouts {
  /** ms without RTP from a leg before the call is ended (0 = never) */
  readonly timeoutMs: number;
  /** the same while the call is on hold (a leg's last SDP is sendonly, recvonly or inactive) */
  readonly holdTimeoutMs: number;
  /** how often the anchor is asked */
  readonly checkIntervalMs: number;
}

export interface WatchedLeg {
  readonly tag: string;
  /** the direction of the leg's last SDP */
  readonly direction: Direction;
  /** epoch ms of the last RTP packet the anchor got from the leg (second precision); null: none yet */
  readonly lastPacketAt: number | null;
}

/** rtpengine reports whole seconds: a packet stamped second S came in [S, S+1). */
const HALF_SECOND = 500;

/**
 * Whether a call's media is dead: a leg that should be sending (hold-aware) has sent no RTP for
 * the timeout, counted from its last packet or, before its first one, from when the call was
 * bridged. Returns the silent leg and when the two-way media ended (its last packet), else null.
 */
export function deadLeg(
  legs: readonly WatchedLeg[],
  context: { readonly bridgedAt: number; readonly now: number; readonly timeouts: MediaTimeouts },
): { tag: string; lastMediaAt: number; silentMs: number } | null {
  const onHold = legs.some((l) => l.direction !== 'sendrecv');
  const limit = onHold ? context.timeouts.holdTimeoutMs : context.timeouts.timeoutMs;
  if (limit === 0) return null;
  let worst: { tag: string; lastMediaAt: number; silentMs: number } | null = null;
  for (const leg of legs) {
    const last = leg.lastPacketAt === null ? context.bridgedAt : Math.max(context.bridgedAt, leg.lastPacketAt + HALF_SECOND);
    const silentMs = context.now - last;
    if (silentMs >= limit && (worst === null || silentMs > worst.silentMs)) worst = { tag: leg.tag, lastMediaAt: Math.min(last, context.now), silentMs };
  }
  return worst;
}
