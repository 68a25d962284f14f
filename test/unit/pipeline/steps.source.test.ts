import { describe, expect, it } from 'vitest';
import { checkScanner, scannerPatterns } from '../../../src/pipeline/steps/scanner.js';
import { identifyTrunk } from '../../../src/pipeline/steps/source.js';
import { buildTrunkTable } from '../../../src/stores/routeStore.js';
import { request, trunkRecord } from '../support/fakes.js';

const carrier = trunkRecord({ id: 'carrier', inbound: { allowed_cidrs: ['192.0.2.0/24', '2001:db8::/32'] } });
const pbx = trunkRecord({ id: 'pbx', kind: 'byoc', workspace_id: 'ws_1', inbound: { allowed_cidrs: ['192.0.2.77/32'] } });
const table = buildTrunkTable([carrier, pbx]);

describe('identifyTrunk (source step)', () => {
  it.each([
    ['IPv4 in a carrier range', '192.0.2.10', 'carrier'],
    ['IPv4 of a customer PBX inside the range', '192.0.2.77', 'pbx'],
    ['IPv6', '2001:db8:5::1', 'carrier'],
    ['bracketed IPv6', '[2001:db8::1]', 'carrier'],
    ['IPv4-mapped IPv6', '::ffff:192.0.2.10', 'carrier'],
    ['IPv4-mapped IPv6 of the PBX', '::ffff:192.0.2.77', 'pbx'],
  ])('%s (%s) -> trunk %s', (_name, sourceAddress, trunkId) => {
    const decision = identifyTrunk(request({ sourceAddress }), table, false);
    expect(decision.kind).toBe('continue');
    if (decision.kind === 'continue') expect(decision.value.id).toBe(trunkId);
  });

  it.each([
    ['unknown IPv4', '203.0.113.9'],
    ['unknown IPv6', '2001:db9::1'],
    ['unknown IPv4-mapped IPv6', '::ffff:203.0.113.9'],
    ['garbage', 'carrier.example.com'],
  ])('%s (%s) -> 403 unknown_source, or a silent drop', (_name, sourceAddress) => {
    expect(identifyTrunk(request({ sourceAddress }), table, false)).toMatchObject({ kind: 'reject', reason: 'unknown_source' });
    expect(identifyTrunk(request({ sourceAddress }), table, true)).toMatchObject({ kind: 'drop', reason: 'unknown_source' });
  });

  it('with no trunks at all every source is unknown', () => {
    expect(identifyTrunk(request(), buildTrunkTable([]), false)).toMatchObject({ kind: 'reject', reason: 'unknown_source' });
  });
});

describe('checkScanner', () => {
  const patterns = scannerPatterns(['friendly-scanner', 'sipvicious', 'VaxSIPUserAgent', 'a.b']);

  it.each([
    ['friendly-scanner', 'drop'],
    ['Friendly-Scanner/1.0', 'drop'],
    ['sipvicious 0.3.4', 'drop'],
    ['vaxsipuseragent/3.1', 'drop'],
    ['a.b', 'drop'],
    ['axb', 'continue'], // "." is a literal dot, not a regex wildcard
    ['Telnyx SIP', 'continue'],
    [undefined, 'continue'],
  ])('User-Agent %j -> %s', (ua, kind) => {
    const decision = checkScanner(request({ headers: ua === undefined ? {} : { 'User-Agent': ua } }), patterns);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'drop') expect(decision.reason).toBe('scanner');
  });
});
