import { describe, expect, it } from 'vitest';
import type { Transport } from '../../../src/domain/model.js';
import { checkTransport } from '../../../src/pipeline/steps/transport.js';
import { request, trunkRecord } from '../support/fakes.js';

const SIP = 'sip:+15550001001@edge.example.com';
const SIPS = 'sips:+15550001001@edge.example.com';
const trunkWith = (transports: Transport[]) => trunkRecord({ id: 't', inbound: { transports } });

describe('checkTransport (transport step)', () => {
  it.each<[string, Transport[], string, string, { kind: 'continue'; value: Transport } | { kind: 'reject'; reason: string }]>([
    ['TLS-only trunk over udp', ['tls'], 'udp', SIP, { kind: 'reject', reason: 'transport_not_allowed' }],
    ['TLS-only trunk over tcp', ['tls'], 'tcp', SIP, { kind: 'reject', reason: 'transport_not_allowed' }],
    ['TLS-only trunk over wss', ['tls'], 'wss', SIP, { kind: 'reject', reason: 'transport_not_allowed' }],
    ['TLS-only trunk over tls', ['tls'], 'tls', SIP, { kind: 'continue', value: 'tls' }],
    ['TLS-only trunk over TLS (upper case)', ['tls'], 'TLS', SIP, { kind: 'continue', value: 'tls' }],
    ['udp/tcp trunk over udp', ['udp', 'tcp'], 'udp', SIP, { kind: 'continue', value: 'udp' }],
    ['udp/tcp trunk over tcp', ['udp', 'tcp'], 'tcp', SIP, { kind: 'continue', value: 'tcp' }],
    ['udp/tcp trunk over tls', ['udp', 'tcp'], 'tls', SIP, { kind: 'reject', reason: 'transport_not_allowed' }],
    ['wss trunk over plain "WS" (unencrypted)', ['wss'], 'WS', SIP, { kind: 'reject', reason: 'transport_not_allowed' }],
    ['wss trunk over "WSS" (upper case)', ['wss'], 'WSS', SIP, { kind: 'continue', value: 'wss' }],
    ['wss trunk over wss', ['wss'], 'wss', SIP, { kind: 'continue', value: 'wss' }],
    ['unknown transport', ['udp', 'tcp', 'tls', 'wss'], 'sctp', SIP, { kind: 'reject', reason: 'transport_not_allowed' }],
    ['empty transport', ['udp'], '', SIP, { kind: 'reject', reason: 'transport_not_allowed' }],
    ['sips: over tcp', ['udp', 'tcp', 'tls'], 'tcp', SIPS, { kind: 'reject', reason: 'sips_requires_tls' }],
    ['sips: over udp', ['udp', 'tcp', 'tls'], 'udp', SIPS, { kind: 'reject', reason: 'sips_requires_tls' }],
    ['SIPS: over udp (scheme in upper case)', ['udp'], 'udp', 'SIPS:+15550001001@edge.example.com', { kind: 'reject', reason: 'sips_requires_tls' }],
    ['sips: over plain ws', ['wss'], 'ws', SIPS, { kind: 'reject', reason: 'sips_requires_tls' }],
    ['sips: over tls', ['tls'], 'tls', SIPS, { kind: 'continue', value: 'tls' }],
    ['sips: over wss', ['wss'], 'wss', SIPS, { kind: 'continue', value: 'wss' }],
    ['sips: over tls on a trunk without tls', ['udp'], 'tls', SIPS, { kind: 'reject', reason: 'transport_not_allowed' }],
  ])('%s', (_name, transports, transport, requestUri, expected) => {
    expect(checkTransport(request({ transport, requestUri }), trunkWith(transports))).toMatchObject(expected);
  });
});
