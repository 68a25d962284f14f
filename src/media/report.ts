import type { NgReply } from 'rtpengine-client';
import type { LegMediaStats, LegQuality, MediaReport } from './anchor.js';

interface NgStream {
  flags?: string[];
  'last packet'?: number;
  stats?: { packets?: number; bytes?: number; errors?: number };
  'local port'?: number;
}
interface NgMedia {
  streams?: NgStream[];
  /** per-SSRC quality, where rtpengine has RTCP reports */
  ssrc?: unknown;
}
interface NgTag {
  tag?: string;
  medias?: NgMedia[];
}
interface NgMos {
  MOS?: number;
  jitter?: number;
  'packet loss'?: number;
  'round-trip time'?: number;
}
interface NgSsrc {
  'average MOS'?: NgMos;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Turns an ng `query` reply into per-leg figures: packets/bytes/errors and the last RTP packet
 * received from each leg (rtpengine gives seconds), and where rtpengine has RTCP-based figures for
 * an SSRC that leg sends (`SSRC` dictionary, MOS in tenths), MOS, jitter, loss and round-trip time.
 */
export function reportOf(reply: NgReply): MediaReport {
  const tags = (reply.tags ?? {}) as Record<string, NgTag>;
  const ssrcs = (reply.SSRC ?? {}) as Record<string, NgSsrc>;
  const legs: Record<string, LegMediaStats & LegQuality> = {};
  for (const [tag, value] of Object.entries(tags)) {
    let packets = 0;
    let bytes = 0;
    let errors = 0;
    let last: number | null = null;
    const legSsrcs: string[] = [];
    for (const media of value.medias ?? []) {
      for (const stream of media.streams ?? []) {
        if (!(stream.flags ?? []).includes('RTP')) continue;
        const s = stream.stats ?? {};
        packets += num(s.packets);
        bytes += num(s.bytes);
        errors += num(s.errors);
        // 'last packet' starts out as the stream's creation time: only packets count
        if (num(s.packets) > 0) last = Math.max(last ?? 0, num(stream['last packet']));
      }
      if (Array.isArray(media.ssrc)) {
        for (const entry of media.ssrc as { ssrc?: number }[]) if (entry?.ssrc !== undefined) legSsrcs.push(String(entry.ssrc));
      }
    }
    legs[tag] = { packets, bytes, errors, lastPacketAt: last === null ? null : last * 1000, ...qualityOf(legSsrcs.map((s) => ssrcs[s]).filter((s): s is NgSsrc => s !== undefined)) };
  }
  return { legs };
}

function qualityOf(entries: readonly NgSsrc[]): LegQuality {
  const mos = entries.map((e) => e['average MOS']).filter((m): m is NgMos => m !== undefined && num(m.MOS) > 0);
  if (mos.length === 0) return { mos: null, jitterMs: null, packetLossPct: null, rttMs: null };
  const avg = (pick: (m: NgMos) => number): number => mos.reduce((sum, m) => sum + pick(m), 0) / mos.length;
  return {
    mos: Math.round(avg((m) => num(m.MOS))) / 10,
    jitterMs: avg((m) => num(m.jitter)),
    packetLossPct: avg((m) => num(m['packet loss'])),
    rttMs: avg((m) => num(m['round-trip time'])) / 1000,
  };
}
