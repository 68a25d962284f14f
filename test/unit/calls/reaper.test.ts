import { describe, expect, it } from 'vitest';
import { reapDecision, type ReaperSettings } from '../../../src/calls/reaper.js';
import type { Dialog } from '../../../src/types/drachtio.js';

const settings: ReaperSettings = { intervalMs: 2000, maxSetupMs: 300_000, maxBridgeMs: 40_000 };
const up = { up: true } as unknown as Dialog;
const gone = { up: false } as unknown as Dialog;
const connected = (leg: Dialog): boolean => (leg as unknown as { up: boolean }).up;
const now = 1_000_000;

describe('reapDecision: which calls the safety net closes', () => {
  it.each([
    ['both legs up', { state: 'answered', answeredAt: now - 5000, legs: [up, up], callerLeg: up }, null],
    ['caller leg gone', { state: 'answered', answeredAt: now - 5000, legs: [gone, up], callerLeg: gone }, { reason: 'leg_gone', cause: 'caller_hangup' }],
    ['agent leg gone', { state: 'answered', answeredAt: now - 5000, legs: [up, gone], callerLeg: up }, { reason: 'leg_gone', cause: 'callee_hangup' }],
    ['answered, not bridged yet, caller leg gone', { state: 'answered', answeredAt: now - 100, legs: null, callerLeg: gone }, { reason: 'leg_gone', cause: 'caller_hangup' }],
    ['answered, bridge pending within bound', { state: 'answered', answeredAt: now - 39_000, legs: null, callerLeg: up }, null],
    ['answered, bridge never completed', { state: 'answered', answeredAt: now - 41_000, legs: null, callerLeg: up }, { reason: 'bridge_stuck', cause: 'error' }],
    ['ringing within the setup bound', { state: 'ringing', answeredAt: null, legs: null, callerLeg: undefined, startedAt: now - 299_000 }, null],
    ['ringing past the setup bound', { state: 'ringing', answeredAt: null, legs: null, callerLeg: undefined, startedAt: now - 301_000 }, { reason: 'setup_stuck', cause: 'failed' }],
    ['already ended', { state: 'ended', answeredAt: now - 5000, legs: [gone, gone], callerLeg: gone }, null],
  ] as const)('%s', (_what, call, expected) => {
    const state = { startedAt: now - 60_000, ...call, legs: call.legs as readonly [Dialog, Dialog] | null };
    expect(reapDecision(state, now, settings, connected)).toEqual(expected);
  });
});
