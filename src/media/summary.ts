import type { MediaReport } from './anchor.js';

/** What the anchor received from one leg over the whole call (RTCP figures null without reports). */
export interface LegSummary {
  readonly packets: number;
  readonly bytes: number;
  readonly errors: number;
  readonly mos: number | null;
  readonly jitterMs: number | null;
  readonly packetLossPct: number | null;
  readonly rttMs: number | null;
}

/** The media of one anchored call, as call.ended reports it. */
export interface MediaSummary {
  /** received from the carrier (carrier -> agent direction) */
  readonly fromCarrier: LegSummary;
  /** received from the agent (agent -> carrier direction) */
  readonly fromAgent: LegSummary;
  /** epoch ms of the last RTP packet from either leg; null when none came */
  readonly lastMediaAt: number | null;
}

const EMPTY: LegSummary = { packets: 0, bytes: 0, errors: 0, mos: null, jitterMs: null, packetLossPct: null, rttMs: null };

function legOf(report: MediaReport, tag: string | null): LegSummary {
  const leg = tag === null ? undefined : report.legs[tag];
  if (!leg) return EMPTY;
  return { packets: leg.packets, bytes: leg.bytes, errors: leg.errors, mos: leg.mos, jitterMs: leg.jitterMs, packetLossPct: leg.packetLossPct, rttMs: leg.rttMs };
}

/** The summary of a call from the anchor's report and which tag is the carrier's and which the agent's. */
export function summarize(report: MediaReport, carrierTag: string | null, agentTag: string | null): MediaSummary {
  const lasts = [carrierTag, agentTag].map((t) => (t === null ? null : (report.legs[t]?.lastPacketAt ?? null))).filter((t): t is number => t !== null);
  return {
    fromCarrier: legOf(report, carrierTag),
    fromAgent: legOf(report, agentTag),
    lastMediaAt: lasts.length > 0 ? Math.max(...lasts) : null,
  };
}
