import { describe, expect, it } from 'vitest';
import { bySize } from '../../../src/calls/agentTransport.js';
import type { Attempt } from '../../../src/calls/sequentialBridge.js';

const attempt = (uri: string, headerBytes = 300): Attempt => ({
  label: 'primary',
  party: 'agent',
  uri,
  options: { headers: { 'X-Workspace-Id': 'x'.repeat(headerBytes) } },
});
const sdp = (bytes: number): string => 'v=0\r\n' + 'a=x\r\n'.repeat(Math.ceil(bytes / 5));

describe('bySize: the agent transport by the INVITE\'s size (RFC 3261 18.1.1)', () => {
  it('keeps a usual INVITE (a 300-byte SDP, the edge\'s headers) on the URI as written: one attempt', () => {
    expect(bySize(attempt('sip:agent@10.0.0.5:5090'), sdp(300)).map((a) => a.uri)).toEqual(['sip:agent@10.0.0.5:5090']);
  });

  it('sends a large INVITE over TCP first and keeps the UDP attempt for when TCP cannot reach the agent', () => {
    const tried = bySize(attempt('sip:agent@10.0.0.5:5090'), sdp(1500));
    expect(tried.map((a) => [a.uri, a.onlyIfUnreachable ?? false])).toEqual([
      ['sip:agent@10.0.0.5:5090;transport=tcp', false],
      ['sip:agent@10.0.0.5:5090', true],
    ]);
  });

  it.each([
    ['a URI naming its transport', 'sip:agent@10.0.0.5:5090;transport=udp'],
    ['a sips: URI', 'sips:agent@10.0.0.5:5061'],
  ])('uses %s as written, whatever the size', (_what, uri) => {
    expect(bySize(attempt(uri), sdp(3000)).map((a) => a.uri)).toEqual([uri]);
  });

  it('never switches with sip.udp_max_bytes 0', () => {
    expect(bySize(attempt('sip:agent@10.0.0.5'), sdp(3000), 0)).toHaveLength(1);
  });

  it('keeps URI headers after the transport parameter', () => {
    expect(bySize(attempt('sip:agent@10.0.0.5?X-Foo=1'), sdp(1500))[0]!.uri).toBe('sip:agent@10.0.0.5;transport=tcp?X-Foo=1');
  });
});
