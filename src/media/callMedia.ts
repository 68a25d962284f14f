import type Srf from 'drachtio-srf';
import type { EndDetail } from '../calls/lifecycle.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { MediaPolicyError, type AnchorCall, type MediaAnchor, type MediaReport } from './anchor.js';
import { answerParams, directionOf, keepsTo, offerParams, withoutIdentity, type Direction, type LegMode } from './policy.js';
import { summarize, type MediaSummary } from './summary.js';
import { deadLeg, type MediaTimeouts } from './watchdog.js';

/** carrier: a trunk's leg; browser: a test call's WebRTC caller (reported as the carrier side); agent: an AI agent */
export type LegRole = 'carrier' | 'agent' | 'browser';
/** a: the caller's leg (the UAS side of the B2BUA); b: the leg the edge placed */
export type Side = 'a' | 'b';

interface Leg {
  readonly tag: string;
  readonly mode: LegMode;
  readonly role: LegRole;
  direction: Direction;
}

/** The createB2BUA options that put the anchor between the legs of one attempt. */
export interface AttemptSdp {
  readonly localSdpB: string | ((ackSdp: string) => Promise<string>);
  readonly localSdpA: (sdp: string, res: Srf.SrfResponse) => Promise<string>;
}

export interface CallMediaDeps {
  readonly anchor: MediaAnchor;
  readonly timeouts: MediaTimeouts;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * The anchored media of one call, owned by its CallSession: every SDP of the call goes through
 * the anchor, offers towards a leg follow that leg's row of LEG_MEDIA (with what the offering leg adds, see offerParams) and what a leg sends must
 * keep to it. Tags: "a" for the caller's leg, "b1", "b2"... per attempt (a failed attempt's branch
 * is deleted when the next one starts), "x1"... for legs a transfer brings in.
 */
export class CallMedia {
  private a: Leg;
  private b: Leg | null = null;
  private transfers = 0;
  private pending: { leg: Leg; branch: { fromTag: string; toTag: string } | null } | null = null;
  private attempts = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private bridgedAt = 0;
  private released = false;
  private readonly now: () => number;

  constructor(
    private readonly call: AnchorCall,
    caller: { mode: LegMode; role: LegRole },
    private readonly deps: CallMediaDeps,
  ) {
    this.a = { tag: 'a', mode: caller.mode, role: caller.role, direction: 'sendrecv' };
    this.now = deps.now ?? Date.now;
  }

  get instance(): string {
    return this.call.instance;
  }

  /**
   * The SDP of one attempt towards a leg of `mode`. Early offer: the anchor's offer goes in the
   * INVITE, the leg's answer (18x/200) comes back through it. Late offer: the leg's offer in its
   * 200 goes to the caller through the anchor, the caller's answer in the ACK comes back.
   */
  async attempt(callerSdp: string | undefined, mode: LegMode, role: LegRole): Promise<AttemptSdp> {
    await this.dropPendingBranch();
    const leg: Leg = { tag: `b${++this.attempts}`, mode, role, direction: 'sendrecv' };
    this.pending = { leg, branch: null };
    const pending = this.pending;
    const a = this.a;
    if (callerSdp) {
      // a carrier's offer was held to its trunk's policy by the pipeline; an agent's is held here
      if (a.role === 'agent') this.ensure(a, callerSdp, 'offer');
      a.direction = directionOf(callerSdp);
      const sdpB = await this.deps.anchor.offer(this.call, { fromTag: a.tag, sdp: withoutIdentity(callerSdp), params: offerParams(a.mode, mode) });
      return {
        localSdpB: sdpB,
        localSdpA: async (answer) => {
          this.ensure(leg, answer, 'answer');
          leg.direction = directionOf(answer);
          const sdpA = await this.deps.anchor.answer(this.call, { fromTag: a.tag, toTag: leg.tag, sdp: withoutIdentity(answer), params: answerParams(a.mode) });
          pending.branch = { fromTag: a.tag, toTag: leg.tag };
          return sdpA;
        },
      };
    }
    return {
      // the caller's answer, in its ACK
      localSdpB: async (ackSdp) => {
        this.ensure(a, ackSdp, 'answer');
        a.direction = directionOf(ackSdp);
        return this.deps.anchor.answer(this.call, { fromTag: leg.tag, toTag: a.tag, sdp: withoutIdentity(ackSdp), params: answerParams(leg.mode) });
      },
      // the placed leg's offer, in its 18x/200
      localSdpA: async (offer) => {
        this.ensure(leg, offer, 'offer');
        leg.direction = directionOf(offer);
        const sdpA = await this.deps.anchor.offer(this.call, { fromTag: leg.tag, sdp: withoutIdentity(offer), params: offerParams(leg.mode, a.mode) });
        pending.branch = { fromTag: leg.tag, toTag: a.tag };
        return sdpA;
      },
    };
  }

  /** The attempt in flight answered and both dialogs stand: watch its media from now on. */
  bridged(onDead: (lastMediaAt: number) => void): void {
    if (!this.pending) return;
    this.b = this.pending.leg;
    this.pending = null;
    this.bridgedAt = this.now();
    this.startWatchdog(onDead);
  }

  /**
   * A re-INVITE (or UPDATE) with SDP from one side: offer through the anchor to the other side
   * (`send` carries it and resolves with the other leg's answer), that answer back through the
   * anchor. Without SDP (a re-INVITE asking for an offer) the other leg is left alone: the anchor
   * re-offers the other leg's last SDP (`peerSdp`) and the answer in the ACK (`ack`) goes back to it.
   */
  async renegotiate(
    side: Side,
    offer: string | undefined,
    io: { send: (sdp: string) => Promise<string>; peerSdp: string | undefined; ack: () => Promise<string | undefined> },
  ): Promise<string> {
    const from = side === 'a' ? this.a : this.b;
    const to = side === 'a' ? this.b : this.a;
    if (!from || !to) throw new MediaPolicyError('renegotiation before the call is bridged');
    const anchor = this.deps.anchor;
    if (!offer) {
      if (!io.peerSdp) throw new MediaPolicyError('no SDP of the other leg to offer');
      const sdpFrom = await anchor.offer(this.call, { fromTag: to.tag, sdp: withoutIdentity(io.peerSdp), params: offerParams(to.mode, from.mode) });
      void io
        .ack()
        .then(async (answer) => {
          if (!answer) return;
          this.ensure(from, answer, 'answer');
          from.direction = directionOf(answer);
          await anchor.answer(this.call, { fromTag: to.tag, toTag: from.tag, sdp: withoutIdentity(answer), params: answerParams(to.mode) });
        })
        .catch((err: unknown) => this.deps.log.warn({ err: { message: (err as Error).message } }, 'answer in the ACK of an SDP-less re-INVITE not taken'));
      return sdpFrom;
    }
    this.ensure(from, offer, 'offer');
    const sdpTo = await anchor.offer(this.call, { fromTag: from.tag, sdp: withoutIdentity(offer), params: offerParams(from.mode, to.mode) });
    const answer = await io.send(sdpTo);
    this.ensure(to, answer, 'answer');
    from.direction = directionOf(offer);
    to.direction = directionOf(answer);
    return anchor.answer(this.call, { fromTag: from.tag, toTag: to.tag, sdp: withoutIdentity(answer), params: answerParams(from.mode) });
  }

  /**
   * A transfer: the party on side `keep` goes on with a new leg of `mode` in place of the other.
   * Returns the anchor's offer for the new leg and, for the new leg's answer, the SDP to re-INVITE
   * the kept party with (the anchor's side of it; its address does not change). From then on the
   * watchdog watches the kept party and the new leg.
   */
  async transfer(keep: Side, keptSdp: string, mode: LegMode, role: LegRole): Promise<{ offer: string; answered: (answer: string) => Promise<string> }> {
    const kept = keep === 'a' ? this.a : this.b;
    if (!kept) throw new MediaPolicyError('transfer before the call is bridged');
    const leg: Leg = { tag: `x${++this.transfers}`, mode, role, direction: 'sendrecv' };
    const offer = await this.deps.anchor.offer(this.call, { fromTag: kept.tag, sdp: withoutIdentity(keptSdp), params: offerParams(kept.mode, mode) });
    return {
      offer,
      answered: async (answer) => {
        this.ensure(leg, answer, 'answer');
        leg.direction = directionOf(answer);
        const sdp = await this.deps.anchor.answer(this.call, { fromTag: kept.tag, toTag: leg.tag, sdp: withoutIdentity(answer), params: answerParams(kept.mode) });
        // from here on the kept party is side a and the new leg side b, as the transferred pair is attached
        this.a = kept;
        this.b = leg;
        this.bridgedAt = this.now();
        return sdp;
      },
    };
  }

  /**
   * The final word on the call's media, read just before the call ends: the anchor's figures and,
   * for a call ended by the media watchdog, nothing more (its end time comes with terminate()).
   */
  async finish(): Promise<EndDetail> {
    this.stopWatchdog();
    if (this.released || !this.b) return {};
    const report = await this.deps.anchor.query(this.call);
    const media = this.summary(report);
    this.observe(media);
    return { media };
  }

  /** Releases the anchor call (the session's run-once cleanup: every path ends here). */
  release(): void {
    this.stopWatchdog();
    if (this.released) return;
    this.released = true;
    this.deps.anchor.delete(this.call).catch((err: unknown) => this.deps.log.warn({ err: { message: (err as Error).message }, rtpengine: this.call.instance }, 'media anchor delete failed'));
  }

  private summary(report: MediaReport): MediaSummary {
    const carrier = [this.a, this.b].find((l) => l?.role === 'carrier' || l?.role === 'browser') ?? null;
    const agent = [this.a, this.b].find((l) => l?.role === 'agent') ?? null;
    return summarize(report, carrier?.tag ?? null, agent?.tag ?? null);
  }

  private observe(media: MediaSummary): void {
    const m = this.deps.metrics;
    for (const [leg, s] of [['carrier', media.fromCarrier], ['agent', media.fromAgent]] as const) {
      m.mediaPackets.observe({ leg }, s.packets);
      if (s.jitterMs !== null) m.mediaJitterMs.observe({ leg }, s.jitterMs);
      if (s.packetLossPct !== null) m.mediaPacketLossPct.observe({ leg }, s.packetLossPct);
      if (s.mos !== null) m.mediaMos.observe({ leg }, s.mos);
    }
  }

  private ensure(leg: Leg, sdp: string, what: 'offer' | 'answer'): void {
    const verdict = keepsTo(leg.mode, sdp);
    if (!verdict.ok) throw new MediaPolicyError(`${leg.role} leg (${leg.mode}) sent an ${what} that is ${verdict.got}`);
  }

  private async dropPendingBranch(): Promise<void> {
    const branch = this.pending?.branch;
    this.pending = null;
    if (!branch) return;
    await this.deps.anchor.delete(this.call, branch).catch((err: unknown) => this.deps.log.debug({ err: { message: (err as Error).message } }, 'deleting a failed attempt\'s media branch failed'));
  }

  private startWatchdog(onDead: (lastMediaAt: number) => void): void {
    const { timeoutMs, holdTimeoutMs, checkIntervalMs } = this.deps.timeouts;
    if (timeoutMs === 0 && holdTimeoutMs === 0) return;
    let busy = false;
    this.watchdog = setInterval(() => {
      if (busy || !this.b) return;
      busy = true;
      this.deps.anchor
        .query(this.call)
        .then((report) => {
          const legs = [this.a, this.b!];
          const dead = deadLeg(
            legs.map((l) => ({ tag: l.tag, direction: l.direction, lastPacketAt: report.legs[l.tag]?.lastPacketAt ?? null })),
            { bridgedAt: this.bridgedAt, now: this.now(), timeouts: this.deps.timeouts },
          );
          if (dead && this.watchdog) {
            this.stopWatchdog();
            this.deps.metrics.mediaTimeouts.inc();
            this.deps.log.info({ silentLeg: legs.find((l) => l.tag === dead.tag)?.role, silentMs: dead.silentMs }, 'media timeout: no RTP');
            onDead(dead.lastMediaAt);
          }
        })
        .catch((err: unknown) => this.deps.log.debug({ err: { message: (err as Error).message } }, 'media watchdog query failed'))
        .finally(() => {
          busy = false;
        });
    }, checkIntervalMs);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}
