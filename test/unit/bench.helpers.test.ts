import { describe, expect, it } from 'vitest';
import { commonPassRate, compareAnchored, cpuPerCall, decisiveSteps, formatAnchored, passingStepAt, type StepFigures } from '../../bench/lib/anchorSummary.js';
import { compareSides, formatComparison, type SideSteps } from '../../bench/lib/compareSteps.js';
import { toCsv } from '../../bench/lib/csv.js';
import { moduleOf, summarizeProfile } from '../../bench/lib/profile.js';
import { lineChart, niceTicks } from '../../bench/lib/report.js';
import { PORTS_PER_CALL, rtpPortRange } from '../../bench/lib/rtpengine.js';
import { benchNumber, benchTrunk, CALLER, dialPlan, MAX_NUMBERS, numberAt } from '../../bench/lib/seed.js';
import { distribution, judgeStep, nextRate, parseSetupLog, percentile } from '../../bench/lib/stats.js';
import { benchInvite } from '../../bench/lib/pipelineBench.js';
import { cpuMsPerCall } from '../../bench/lib/step.js';
import { metricValue } from '../../bench/lib/sut.js';
import { phoneNumberSchema, type TrunkRecord } from '../../src/domain/model.js';
import { extractCaller, extractDid } from '../../src/pipeline/steps/did.js';
import { checkMedia } from '../../src/pipeline/steps/media.js';
import { normaliseNumber } from '../../src/domain/e164.js';

describe('percentile (nearest rank)', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  it.each([
    [50, 50],
    [95, 95],
    [99, 99],
    [100, 100],
    [0, 1],
    [0.5, 1],
    [99.5, 100],
  ])('p%s of 1..100 is %s', (p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('is null without values', () => {
    expect(percentile([], 50)).toBeNull();
    expect(distribution([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null, mean: null });
  });

  it('sorts what it is given', () => {
    expect(distribution([30, 10, 20])).toMatchObject({ count: 3, p50: 20, max: 30, mean: 20 });
  });
});

describe('parseSetupLog', () => {
  it('turns gettimeofday pairs into ms after the INVITE, leaving out responses that never came', () => {
    const text = [
      'setup;1;1700000000.000000;500000.000000;1700000000.000000;500250.000000;1700000000.000000;505000.000000;1700000000.000000;507500.000000',
      // no 100: 0;0, and the 200 crosses a second boundary
      'setup;2;1700000000.000000;999000.000000;0.000000;0.000000;1700000001.000000;1000.000000;1700000001.000000;4000.000000',
      'garbage line',
    ].join('\n');
    const t = parseSetupLog(text);
    expect(t.to100).toEqual([0.25]);
    expect(t.to180.map((v) => Number(v.toFixed(3)))).toEqual([5, 2]);
    expect(t.to200.map((v) => Number(v.toFixed(3)))).toEqual([7.5, 5]);
    expect(t.lastInviteMs! - t.firstInviteMs!).toBeCloseTo(499, 6);
  });
});

describe('judgeStep', () => {
  const base = { offeredCps: 100, planned: 1000, created: 1000, successful: 1000, failed: 0, sendSpanS: 9.99 };
  it.each([
    ['all answered at the offered rate', base, true],
    ['one failed call in 1000 is 0.1 %: not under it', { ...base, successful: 999, failed: 1 }, false],
    ['none failed but SIPp managed only 80 cps', { ...base, sendSpanS: 12.5 }, false],
    ['nothing placed', { ...base, created: 0, successful: 0 }, false],
  ])('%s', (_name, counts, pass) => {
    expect(judgeStep(counts).pass).toBe(pass);
  });

  it('counts calls cut off by the time bound as failed', () => {
    expect(judgeStep({ ...base, successful: 990, failed: 0 }).failureRatio).toBeCloseTo(0.01, 9);
  });
});

describe('nextRate', () => {
  const opts = { start: 100, step: 50, max: 400, resolution: 25 };
  it('climbs by step while steps pass, stops at max', () => {
    expect(nextRate([], opts)).toBe(100);
    expect(nextRate([{ rate: 100, pass: true }], opts)).toBe(150);
    expect(nextRate([{ rate: 350, pass: true }], opts)).toBe(400);
    expect(nextRate([{ rate: 400, pass: true }], opts)).toBeNull();
  });

  it('after a failure, halves the gap to the best pass down to the resolution', () => {
    expect(nextRate([{ rate: 300, pass: true }, { rate: 350, pass: false }], opts)).toBe(325);
    expect(nextRate([{ rate: 300, pass: true }, { rate: 350, pass: false }, { rate: 325, pass: true }], opts)).toBeNull();
    expect(nextRate([{ rate: 300, pass: true }, { rate: 350, pass: false }, { rate: 325, pass: false }], opts)).toBeNull();
  });

  it('searches downwards when the first rate already fails', () => {
    expect(nextRate([{ rate: 100, pass: false }], opts)).toBe(50);
  });
});

describe('benchInvite (the per-call CPU benchmark\'s request)', () => {
  it('carries the dialled number, the bench caller and a plain RTP offer the pipeline accepts', () => {
    const view = benchInvite(numberAt(7), 7, '127.0.0.42');
    const trunk = benchTrunk('127.0.0.42') as TrunkRecord; // a record is the trunk plus timestamps the media step never reads
    expect(extractDid(view, undefined)).toEqual({ kind: 'continue', value: { raw: numberAt(7), e164: numberAt(7), read: false } });
    expect(extractCaller(view, undefined)).toEqual({ raw: CALLER, e164: CALLER });
    expect(checkMedia(view, trunk)).toEqual({ kind: 'continue', value: { offer: 'rtp', sdp: view.body } });
    expect(view.sourceAddress).toBe('127.0.0.42');
  });
});

describe('cpuMsPerCall', () => {
  it.each([
    [50, 500, 1],
    [66, 500, 1.32],
    [100, 250, 4],
    [null, 500, null],
    [undefined, 500, null],
    [40, 0, null],
  ] as const)('%s %% at %s calls/s -> %s ms per call', (cpu, cps, expected) => {
    const got = cpuMsPerCall(cpu, cps);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(expected, 6);
  });
});

describe('compareSides (npm run compare)', () => {
  const step = (label: string, reachedCps: number, cpu: Record<string, number>, failed = 0) => ({
    label,
    reachedCps,
    created: reachedCps * 10,
    failed,
    usage: { processes: Object.fromEntries(Object.entries(cpu).map(([k, cpuPct]) => [k, { cpuPct, rssStartBytes: 0, rssPeakBytes: 0, rssEndBytes: 0 }])), machineBusyPct: null, otherCpuPct: null, otherCpuPeakPct: null, seconds: 10 },
  });
  const edge: SideSteps = { name: 'this checkout', sut: 'edge', steps: [step('step1', 150, { edge: 30, redis: 6 }), step('step2', 150, { edge: 33, redis: 4.5 }, 2)] };
  const bare: SideSteps = { name: 'bare B2BUA', sut: 'bare', steps: [step('step1', 150, { bare: 24 }), step('step2', 100, { bare: 12 })] };

  it('gives each side its CPU ms per call, the ratio and its Redis, step by step', () => {
    const rows = compareSides(edge, bare);
    expect(rows).toHaveLength(2);
    // 30 % of a core at 150 calls/s = 2 ms per call; 24 % = 1.6 ms
    expect(rows[0]).toMatchObject({ step: 'step1', a_ms_per_call: 2, b_ms_per_call: 1.6, a_redis_ms_per_call: 0.4, b_redis_ms_per_call: null, a_failed: 0, b_failed: 0 });
    expect(rows[0]!.b_over_a).toBeCloseTo(0.8);
    // the reached rate of each side counts: 12 % at 100 calls/s = 1.2 ms
    expect(rows[1]).toMatchObject({ a_ms_per_call: 2.2, b_ms_per_call: 1.2, a_failed: 2 });
    expect(formatComparison(edge, bare, rows)).toContain('b/a 0.800');
  });

  it('compares only the steps both sides ran', () => {
    expect(compareSides(edge, { ...bare, steps: bare.steps.slice(0, 1) })).toHaveLength(1);
  });
});

describe('toCsv', () => {
  it('quotes what needs quoting and prints fractions with 3 decimals', () => {
    expect(toCsv([{ a: 'x,y', b: 1.23456, c: null, d: 'say "hi"' }], ['a', 'b', 'c', 'd'])).toBe('a,b,c,d\n"x,y",1.235,,"say ""hi"""\n');
  });
});

describe('report', () => {
  it('niceTicks covers the maximum with round steps', () => {
    expect(niceTicks(437)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('lineChart draws one path per line and escapes names', () => {
    const svg = lineChart({ title: 'a<b', xLabel: 'x', yLabel: 'y', lines: [{ name: 'edge & co', color: '#c00', points: [[100, 5], [200, null], [300, 9]] }] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a&#60;b');
    expect(svg).toContain('edge &#38; co');
    // null breaks the line: two separate moves
    expect((/<path d="([^"]+)"/.exec(svg)?.[1] ?? '').match(/M/g)).toHaveLength(2);
  });
});

describe('profile', () => {
  it.each([
    ['file:///w/node_modules/drachtio-srf/lib/srf.js', 'x', 'drachtio-srf'],
    ['file:///w/node_modules/@esbuild/linux/x.js', 'x', '@esbuild/linux'],
    ['file:///w/src/pipeline/steps/did.ts', 'x', 'src/pipeline/steps/did.ts'],
    ['file:///w/dist/pipeline/inbound.js', 'x', 'src/pipeline/inbound.ts'],
    ['node:internal/streams/writable', 'x', 'node:internal'],
    ['', '(garbage collector)', '(garbage collector)'],
  ])('moduleOf(%s) = %s', (url, fn, expected) => {
    expect(moduleOf(url, fn)).toBe(expected);
  });

  it('sums self time per sample and leaves idle out of the busy share', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const s = summarizeProfile({
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('parse', 'file:///w/node_modules/libphonenumber-js/x.js') },
        { id: 4, callFrame: frame('write', 'file:///w/node_modules/pino/y.js') },
      ],
      samples: [2, 3, 3, 4],
      timeDeltas: [1000, 3000, 3000, 2000],
      startTime: 0,
      endTime: 9000,
    });
    expect(s.idleMs).toBe(1);
    expect(s.busyMs).toBe(8);
    expect(s.byModule[0]).toEqual({ name: 'libphonenumber-js', ms: 6, pct: 75 });
  });
});

describe('metricValue', () => {
  const text = [
    '# HELP sip_edge_active_calls Calls up',
    'sip_edge_active_calls{direction="inbound"} 12',
    'sip_edge_active_calls{direction="outbound"} 3',
    'sip_edge_active_calls_other 99',
  ].join('\n');
  it('sums the matching label sets of exactly that name', () => {
    expect(metricValue(text, 'sip_edge_active_calls')).toBe(15);
    expect(metricValue(text, 'sip_edge_active_calls', { direction: 'outbound' })).toBe(3);
    expect(metricValue(text, 'sip_edge_missing')).toBeNull();
  });
});

describe('bench numbers', () => {
  it('are distinct valid E.164 numbers that the DID step keeps as they are', () => {
    const sample = [0, 1, 9, 10, 999, 1000, 123_456, MAX_NUMBERS - 1];
    const numbers = sample.map(numberAt);
    expect(new Set(numbers).size).toBe(sample.length);
    for (const n of numbers) expect(normaliseNumber(n)).toMatchObject({ e164: n, country: 'US' });
    expect(() => numberAt(MAX_NUMBERS)).toThrow(RangeError);
  });

  it('are complete phone number records (the schema adds nothing)', () => {
    expect(phoneNumberSchema.parse(benchNumber(7))).toEqual(benchNumber(7));
  });

  it('dial plans are permutations: every index once per round', () => {
    const plan = dialPlan(1000, 3);
    const all = plan.slice(0, 1000);
    expect(new Set(all).size).toBe(1000);
    expect(plan.slice(1000, 5)).toEqual(all.slice(0, 5));
  });
});

describe('rtpPortRange (the anchored side\'s rtpengine)', () => {
  it('holds every call SIPp may keep open at the highest rate, 4 ports each, from the base up', () => {
    // 1500 cps x (1 s hold + 4 s) = 7500 calls = 30,000 ports
    expect(rtpPortRange({ maxRate: 1500, holdS: 1 })).toEqual({ min: 30_000, max: 59_999, calls: 7_500 });
    expect(PORTS_PER_CALL).toBe(4);
  });

  it('never goes below the minimum span for a low search', () => {
    expect(rtpPortRange({ maxRate: 100, holdS: 1 })).toEqual({ min: 30_000, max: 39_999, calls: 2_500 });
    expect(rtpPortRange({ maxRate: 100, holdS: 1, base: 20_000, minPorts: 400 })).toEqual({ min: 20_000, max: 21_999, calls: 500 });
  });

  it('refuses a search that would need ports past 65535', () => {
    expect(() => rtpPortRange({ maxRate: 1500, holdS: 5 })).toThrow(/lower --max or --hold/);
  });
});

describe('anchored vs unanchored edge (npm run bench -- --anchored)', () => {
  const step = (rate: number, pass: boolean, reachedCps: number, cpu: Record<string, number>, label = `${rate}cps`): StepFigures => ({
    label,
    rate,
    pass,
    reachedCps,
    usage: { processes: Object.fromEntries(Object.entries(cpu).map(([k, cpuPct]) => [k, { cpuPct, rssStartBytes: 0, rssPeakBytes: 0, rssEndBytes: 0 }])), machineBusyPct: null, otherCpuPct: null, otherCpuPeakPct: null, seconds: 10 },
  });

  it('decisiveSteps keeps the last attempt at each rate, in order', () => {
    const steps = [step(100, true, 100, {}), step(150, false, 140, {}), step(150, true, 150, {}, '150cps-again'), step(200, false, 180, {})];
    expect(decisiveSteps(steps).map((s) => s.label)).toEqual(['100cps', '150cps-again', '200cps']);
  });

  it('commonPassRate is the highest rate both sides passed, null when none', () => {
    const edge = [step(100, true, 100, {}), step(150, true, 150, {}), step(200, true, 200, {})];
    const anchored = [step(100, true, 100, {}), step(150, true, 150, {}), step(200, false, 170, {})];
    expect(commonPassRate(edge, anchored)).toBe(150);
    expect(commonPassRate(edge, [step(100, false, 50, {})])).toBeNull();
  });

  it('cpuPerCall reads the system under test as edge, leaves absent processes null and sums the rest', () => {
    // 50 % of a core at 200 calls/s = 2.5 ms per call
    const c = cpuPerCall(step(200, true, 200, { anchored: 50, drachtio: 20, redis: 4, rtpengine: 10, sipp_uac: 30 }), 'anchored');
    expect(c.ms).toEqual({ edge: 2.5, drachtio: 1, redis: 0.2, rtpengine: 0.5 });
    expect(c.total).toBeCloseTo(4.2, 10);
    expect(cpuPerCall(step(200, true, 200, { edge: 50, drachtio: 20 }), 'edge').ms.rtpengine).toBeNull();
  });

  it('passingStepAt takes the last passing attempt (the latest round)', () => {
    const steps = [step(150, true, 150, { edge: 30 }, 'r1'), step(150, false, 120, { edge: 30 }, 'r2 fail'), step(150, true, 150, { edge: 36 }, 'r2 again')];
    expect(passingStepAt(steps, 150)?.label).toBe('r2 again');
    expect(passingStepAt(steps, 200)).toBeNull();
  });

  it('compareAnchored: ratio of the highest rates, CPU compared at the highest rate both passed', () => {
    const edge = [step(100, true, 100, { edge: 10, drachtio: 8, redis: 2 }), step(200, true, 200, { edge: 20, drachtio: 16, redis: 4 }), step(300, true, 300, { edge: 30, drachtio: 24, redis: 6 })];
    const anchored = [step(100, true, 100, { anchored: 15, drachtio: 8, redis: 2, rtpengine: 5 }), step(200, true, 200, { anchored: 30, drachtio: 16, redis: 4, rtpengine: 10 }), step(300, false, 250, {})];
    const c = compareAnchored({ maxRate: 300, steps: edge }, { maxRate: 200, steps: anchored });
    expect(c.ratio).toBeCloseTo(2 / 3, 10);
    expect(c.cpuRate).toBe(200);
    expect(c.edgeCpu?.ms).toEqual({ edge: 1, drachtio: 0.8, redis: 0.2, rtpengine: null });
    expect(c.anchoredCpu?.ms).toEqual({ edge: 1.5, drachtio: 0.8, redis: 0.2, rtpengine: 0.5 });
    const lines = formatAnchored(c);
    expect(lines[0]).toBe('ratio c/b (anchored / unanchored edge): 0.667');
    expect(lines[1]).toContain('at 200 calls/s');
    expect(lines[1]).toContain('edge 1.00 / 1.50; drachtio 0.80 / 0.80; redis 0.20 / 0.20; rtpengine - / 0.50; total 2.00 / 3.00');
  });

  it('says so when the anchored side passed no rate', () => {
    const c = compareAnchored({ maxRate: 100, steps: [step(100, true, 100, { edge: 10 })] }, { maxRate: null, steps: [step(100, false, 60, {})] });
    expect(c.ratio).toBeNull();
    expect(c.cpuRate).toBeNull();
    expect(formatAnchored(c)).toEqual(['ratio c/b (anchored / unanchored edge): -', 'CPU per call: no rate passed on both edge sides']);
  });
});
