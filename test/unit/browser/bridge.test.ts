import { describe, expect, it } from 'vitest';
import { testCallAttempts, testCallHeaders } from '../../../src/browser/bridge.js';
import { parseConfig } from '../../../src/config/load.js';
import { browserEntryTrunk } from '../../../src/browser/entry.js';
import { testCallInfo } from '../../../src/browser/invite.js';
import { planKindOf } from '../../../src/billing/plan.js';
import type { BrowserPlan } from '../../../src/pipeline/browser.js';
import { agentRecord, numberRecord } from '../support/fakes.js';

const config = parseConfig({ admin: { token: 'x'.repeat(16) }, media: { anchor: 'always', rtpengine: ['127.0.0.1:22222'] }, test_calls: { secret: 's'.repeat(32), entry_ports: [8443], ws_url: 'wss://edge.example.com:8443' } });
const entry = browserEntryTrunk(config.test_calls);
const primary = agentRecord({ id: 'agt_1', sip_uri: 'sip:agent1@10.0.0.1;transport=tcp', media_encryption: 'dtls' });
const fallback = agentRecord({ id: 'agt_2', sip_uri: 'sip:agent2@10.0.0.2;transport=tcp' });
const number = numberRecord({ id: 'num_1', phone_number: '+15550001001', telephony: 'imported', provider: 'twilio', inbound_routing: { agent_id: 'agt_1', fallback: { agent_id: 'agt_2' }, voicemail_message: 'Bye' } });
const claims = (target: BrowserPlan['claims']['target']) => ({ jti: 'j'.repeat(22), workspaceId: 'ws_1', target, iat: 1, exp: 2 });

const numberPlan: BrowserPlan = {
  entry,
  claims: claims({ kind: 'number', id: 'num_1', e164: '+15550001001' }),
  number,
  targets: [{ role: 'primary', agent: primary }, { role: 'fallback', agent: fallback }],
  voicemailMessage: 'Bye',
  offerSdp: 'v=0\r\n',
};
const agentPlan: BrowserPlan = { ...numberPlan, claims: claims({ kind: 'agent', id: 'agt_1' }), number: null, targets: [{ role: 'primary', agent: primary }], voicemailMessage: null };

describe('test-call attempts and headers', () => {
  it('follows a number\'s inbound routing: primary, fallback, voicemail, each leg with its own media policy', () => {
    const attempts = testCallAttempts(numberPlan, 'sip:vm@10.0.0.9;transport=tcp');
    expect(attempts.map((a) => [a.label, a.uri, a.legMode])).toEqual([
      ['primary', 'sip:agent1@10.0.0.1;transport=tcp', 'dtls'],
      ['fallback', 'sip:agent2@10.0.0.2;transport=tcp', 'rtp'],
      ['voicemail', 'sip:vm@10.0.0.9;transport=tcp', 'rtp'],
    ]);
    expect(attempts[2]!.options.headers).toMatchObject({ 'X-Voicemail-Message': 'Bye', 'X-Test-Call': 'true' });
    expect(attempts[2]!.options.headers).not.toHaveProperty('X-Agent-Id');
  });

  it('calls only the token\'s agent for an agent token, never voicemail', () => {
    expect(testCallAttempts(agentPlan, 'sip:vm@10.0.0.9;transport=tcp').map((a) => a.label)).toEqual(['primary']);
  });

  it('tells the agent it is a test call, and what the carrier headers would say', () => {
    expect(testCallHeaders(numberPlan, 'agt_1')).toEqual({
      'X-Workspace-Id': 'ws_1',
      'X-Trunk-Id': '@browser',
      'X-Caller': 'browser',
      'X-Test-Call': 'true',
      'X-Number-Id': 'num_1',
      'X-Original-Called': '+15550001001',
      'X-Agent-Id': 'agt_1',
    });
    expect(testCallHeaders(agentPlan, 'agt_1')).toEqual({ 'X-Workspace-Id': 'ws_1', 'X-Trunk-Id': '@browser', 'X-Caller': 'browser', 'X-Test-Call': 'true', 'X-Agent-Id': 'agt_1' });
  });

  it('records the call as a browser test, billed browser_test whatever the number\'s kind', () => {
    const info = testCallInfo({ callId: 'c1' }, numberPlan);
    expect(info).toMatchObject({ direction: 'inbound', trunkId: '@browser', trunkKind: 'managed', numberId: 'num_1', telephony: 'imported', agentId: 'agt_1', from: 'browser', to: '+15550001001', browserTest: true });
    expect(planKindOf(info)).toBe('browser_test');
    // the same call from a carrier would be billed by the number's kind
    expect(planKindOf({ ...info, browserTest: false })).toBe('imported');
    expect(testCallInfo({ callId: 'c2' }, agentPlan)).toMatchObject({ numberId: null, telephony: null, to: 'agent:agt_1', browserTest: true });
  });
});
