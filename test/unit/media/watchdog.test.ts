import { describe, expect, it } from 'vitest';
import { deadLeg } from '../../../src/media/watchdog.js';
import { reportOf } from '../../../src/media/report.js';
import { summarize } from '../../../src/media/summary.js';

const timeouts = { timeoutMs: 3000, holdTimeoutMs: 20_000, checkIntervalMs: 500 };
const T0 = 1_700_000_000_000;

describe('deadLeg', () => {
  it.each([
    ['both legs sending', [T0 + 9000, T0 + 9000], 10_000, null],
    ['the agent silent for the timeout', [T0 + 9000, T0 + 6000], 10_000, { tag: 'b1', lastMediaAt: T0 + 6500, silentMs: 3500 }],
    ['the agent silent just under the timeout', [T0 + 9000, T0 + 6000], 9400, null],
    ['a leg that never sent, counted from the bridge', [T0 + 9000, null], T0 + 3000 - T0, { tag: 'b1', lastMediaAt: T0, silentMs: 3000 }],
  ] as const)('%s', (_what, [aLast, bLast], at, expected) => {
    const dead = deadLeg(
      [
        { tag: 'a', direction: 'sendrecv', lastPacketAt: aLast },
        { tag: 'b1', direction: 'sendrecv', lastPacketAt: bLast },
      ],
      { bridgedAt: T0, now: T0 + at, timeouts },
    );
    expect(dead).toEqual(expected);
  });

  it('uses the hold timeout while a leg holds the call', () => {
    const legs = [
      { tag: 'a', direction: 'sendonly' as const, lastPacketAt: T0 + 1000 },
      { tag: 'b1', direction: 'recvonly' as const, lastPacketAt: T0 + 1000 },
    ];
    expect(deadLeg(legs, { bridgedAt: T0, now: T0 + 10_000, timeouts })).toBeNull();
    expect(deadLeg(legs, { bridgedAt: T0, now: T0 + 22_000, timeouts })?.tag).toBeDefined();
  });

  it('never ends a call with both timeouts at 0', () => {
    expect(deadLeg([{ tag: 'a', direction: 'sendrecv', lastPacketAt: null }], { bridgedAt: T0, now: T0 + 1e9, timeouts: { timeoutMs: 0, holdTimeoutMs: 0, checkIntervalMs: 1 } })).toBeNull();
  });
});

describe('reportOf + summarize', () => {
  const stream = (flags: string[], packets: number, last: number) => ({ flags, 'last packet': last, stats: { packets, bytes: packets * 172, errors: 0 } });
  const reply = {
    result: 'ok',
    tags: {
      a: { tag: 'a', medias: [{ streams: [stream(['RTP'], 120, 1_700_000_010), stream(['RTCP'], 5, 1_700_000_012)], ssrc: [{ ssrc: 1111 }] }] },
      b1: { tag: 'b1', medias: [{ streams: [stream(['RTP'], 0, 1_700_000_001), stream(['RTCP'], 0, 1_700_000_001)] }] },
    },
    SSRC: { '1111': { 'average MOS': { MOS: 43, jitter: 12, 'packet loss': 1.5, 'round-trip time': 20_000 } } },
  };

  it('counts RTP (not RTCP) per leg, a leg without packets has no last packet, RTCP figures where rtpengine has them', () => {
    const report = reportOf(reply);
    expect(report.legs.a).toEqual({ packets: 120, bytes: 120 * 172, errors: 0, lastPacketAt: 1_700_000_010_000, mos: 4.3, jitterMs: 12, packetLossPct: 1.5, rttMs: 20 });
    expect(report.legs.b1).toMatchObject({ packets: 0, lastPacketAt: null, mos: null, jitterMs: null });
  });

  it('names the directions by role, whichever side the carrier is on', () => {
    const report = reportOf(reply);
    expect(summarize(report, 'a', 'b1')).toMatchObject({ fromCarrier: { packets: 120 }, fromAgent: { packets: 0 }, lastMediaAt: 1_700_000_010_000 });
    expect(summarize(report, 'b1', 'a')).toMatchObject({ fromCarrier: { packets: 0 }, fromAgent: { packets: 120 } });
  });
});
