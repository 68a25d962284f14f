import type { NgParams } from './policy.js';

/** One call on one anchor instance: a call keeps its instance for its whole life. */
export interface AnchorCall {
  readonly callId: string;
  readonly instance: string;
}

export interface OfferRequest {
  /** the leg the offer comes from */
  readonly fromTag: string;
  readonly sdp: string;
  /** ng parameters for the leg the offer goes to (see LEG_MEDIA) */
  readonly params: NgParams;
}

export interface AnswerRequest {
  /** the leg that made the offer */
  readonly fromTag: string;
  /** the leg that answers */
  readonly toTag: string;
  readonly sdp: string;
  readonly params: NgParams;
}

/** What the anchor knows of one leg's incoming media (packets it received from that leg). */
export interface LegMediaStats {
  readonly packets: number;
  readonly bytes: number;
  readonly errors: number;
  /** epoch ms of the last RTP packet from this leg (second precision); null before the first */
  readonly lastPacketAt: number | null;
}

/** RTCP-derived quality of one leg's stream, where the anchor got reports. */
export interface LegQuality {
  readonly mos: number | null;
  readonly jitterMs: number | null;
  readonly packetLossPct: number | null;
  readonly rttMs: number | null;
}

export interface MediaReport {
  /** per tag (leg) */
  readonly legs: Readonly<Record<string, LegMediaStats & LegQuality>>;
}

/**
 * The media anchor: offer, answer, delete and query over one anchor call. `place` picks the
 * instance a new call lives on (null when no instance is healthy). Every method rejects with a
 * MediaUnavailableError within a bounded time when the instance does not answer.
 */
export interface MediaAnchor {
  place(callId: string): AnchorCall | null;
  offer(call: AnchorCall, request: OfferRequest): Promise<string>;
  answer(call: AnchorCall, request: AnswerRequest): Promise<string>;
  /** the whole call, or one branch (an agent that failed over) */
  delete(call: AnchorCall, branch?: { fromTag: string; toTag: string }): Promise<void>;
  query(call: AnchorCall): Promise<MediaReport>;
  /** instances answering pings now / configured */
  health(): { healthy: number; total: number };
  start(): void;
  stop(): void;
}

/** The anchor did not answer in time, is marked down, or refused the command. */
export class MediaUnavailableError extends Error {
  constructor(message: string, readonly instance: string | null) {
    super(message);
    this.name = 'MediaUnavailableError';
  }
}

/** An offer or answer from a leg breaks that leg's media policy. */
export class MediaPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaPolicyError';
  }
}
