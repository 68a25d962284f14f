import { describe, expect, it } from 'vitest';
import { DIALOG_HEADER_POLICY, relayedHeaders, type RelayDirection, type RelayedMessage } from '../../../src/calls/headerPolicy.js';

/** Headers a hostile or careless peer puts on an in-dialog request or answer. */
const HOSTILE: Record<string, string> = {
  'X-Workspace-Id': 'ws_spoofed',
  'X-Agent-Id': 'agent_spoofed',
  'X-Internal-Node': '10.8.3.17',
  'P-Asserted-Identity': '<sip:agent@10.8.3.17>',
  'P-Preferred-Identity': '<sip:agent@10.8.3.17>',
  'Remote-Party-ID': '<sip:agent@10.8.3.17>',
  Identity: 'eyJhbGciOi...',
  'User-Agent': 'InternalMediaServer/1.2 (host 10.8.3.17)',
  Server: 'InternalMediaServer/1.2',
  Via: 'SIP/2.0/UDP 10.8.3.17:5060;branch=z9hG4bK1',
  Contact: '<sip:agent@10.8.3.17:5060>',
  'Record-Route': '<sip:10.8.3.17;lr>',
  Route: '<sip:10.8.3.17;lr>',
  'Session-Expires': '90;refresher=uac',
  'Min-SE': '90',
  Require: 'timer',
  Supported: 'timer, 100rel',
  Allow: 'INVITE, BYE',
  Warning: '399 10.8.3.17 "internal"',
};

const MESSAGES = Object.keys(DIALOG_HEADER_POLICY) as RelayedMessage[];
const DIRECTIONS: RelayDirection[] = ['to_agent', 'to_carrier'];

describe('the dialog header policy', () => {
  it.each(MESSAGES.flatMap((m) => DIRECTIONS.map((d) => [m, d] as const)))('%s %s: no hostile header crosses', (message, direction) => {
    expect(relayedHeaders(message, direction, HOSTILE)).toEqual({});
  });

  it.each(MESSAGES.flatMap((m) => DIRECTIONS.map((d) => [m, d] as const)))('%s %s: every header the table allows crosses unchanged', (message, direction) => {
    const allowed = DIALOG_HEADER_POLICY[message][direction];
    const sent = Object.fromEntries(allowed.map((name) => [name.toLowerCase(), `value of ${name}`]));
    expect(relayedHeaders(message, direction, { ...sent, ...HOSTILE })).toEqual(sent);
  });

  it('never allows an X-, identity, host-naming or per-leg session-timer header, for any message', () => {
    for (const message of MESSAGES) {
      for (const direction of DIRECTIONS) {
        for (const name of DIALOG_HEADER_POLICY[message][direction]) {
          expect(name).not.toMatch(/^x-|identity|party|user-agent|server|via|contact|route|session-expires|min-se|require/i);
        }
      }
    }
  });

  it('drops allowed headers whose value carries a line break (header injection)', () => {
    expect(relayedHeaders('INFO', 'to_agent', { 'Content-Type': 'application/dtmf-relay\r\nX-Workspace-Id: evil' })).toEqual({});
  });

  it('treats a method outside the table like MESSAGE (body headers only)', () => {
    expect(relayedHeaders('PUBLISH', 'to_carrier', { 'Content-Type': 'text/plain', 'X-Internal-Node': '10.0.0.1' })).toEqual({ 'Content-Type': 'text/plain' });
  });
});
