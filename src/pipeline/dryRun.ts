import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { rejectSpec } from './reasons.js';
import type { CidrMatcher } from '../domain/cidr.js';
import { evaluateInbound, type InboundPipelineDeps } from './inbound.js';
import { evaluateOutbound, type OutboundPipelineDeps } from './outbound.js';
import { reject, type Refusal, type SipRequestView } from './types.js';

export const routeTestRequestSchema = z.strictObject({
  direction: z.enum(['inbound', 'outbound']).default('inbound'),
  /** outbound: the agent placing the call (its X-Agent-Id) */
  agent_id: z.string().min(1).optional(),
  source_ip: z.string().min(1),
  transport: z.enum(['udp', 'tcp', 'tls', 'wss']).default('udp'),
  request_uri: z.string().regex(/^(sips?|tel):/i, 'must be a sip:, sips: or tel: URI'),
  to: z.string().optional(),
  from: z.string().default('<sip:anonymous@anonymous.invalid>'),
  /** the INVITE body (SDP, or a multipart body holding it) */
  sdp: z.string().optional(),
  /** Content-Type of `sdp` when it is not plain application/sdp (e.g. multipart/mixed;boundary=...) */
  content_type: z.string().min(1).optional(),
  /** other request headers (User-Agent, Proxy-Authorization, ...) */
  headers: z.record(z.string(), z.string()).default({}),
});
export type RouteTestRequest = z.infer<typeof routeTestRequestSchema>;

export interface RouteTestResult {
  readonly decision: 'accept' | 'reject' | 'drop';
  readonly step: string;
  readonly reason: string | null;
  readonly status: number | null;
  readonly detail: string | null;
  readonly trunk_id: string | null;
  readonly outbound?: null | {
    readonly agent_id: string;
    readonly caller_number_id: string;
    readonly destination: { e164: string; country: string | null };
    readonly trunk_id: string;
    readonly termination_uris: string[];
  };
  readonly route: null | {
    readonly did: { raw: string; e164: string };
    readonly caller: { raw: string; e164: string | null };
    readonly number_id: string;
    readonly workspace_id: string;
    readonly targets: { role: string; agent_id: string; sip_uri: string }[];
    readonly voicemail_message: string | null;
  };
}

export interface RouteTestDeps {
  readonly inbound: InboundPipelineDeps;
  readonly outbound: OutboundPipelineDeps;
  readonly agentSources: CidrMatcher<true>;
}

/** The admin dry run: the same pipelines as a live INVITE, on a request described in JSON. */
export async function routeTest(input: RouteTestRequest, deps: RouteTestDeps): Promise<RouteTestResult> {
  const headers = new Map(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (input.agent_id) headers.set('x-agent-id', input.agent_id);
  // a live INVITE carries a Contact; the dry run assumes one unless the request names its own
  if (!headers.has('contact')) headers.set('contact', `<sip:dry-run@${input.source_ip.includes(':') ? `[${input.source_ip}]` : input.source_ip}>`);
  const view: SipRequestView = {
    method: 'INVITE',
    callId: `route-test-${randomUUID()}`,
    sourceAddress: input.source_ip,
    transport: input.transport,
    requestUri: input.request_uri,
    to: input.to ?? `<${input.request_uri}>`,
    from: input.from,
    body: input.sdp,
    contentType: input.sdp === undefined ? undefined : (input.content_type ?? 'application/sdp'),
    header: (name) => headers.get(name.toLowerCase()),
  };
  if (input.direction === 'outbound') return outboundTest(view, deps);
  const outcome = await evaluateInbound(view, deps.inbound, { dryRun: true });
  if (outcome.kind === 'accept') {
    const { plan } = outcome;
    return {
      decision: 'accept',
      step: 'bridge',
      reason: null,
      status: null,
      detail: null,
      trunk_id: plan.trunk.id,
      route: {
        did: { raw: plan.did.raw, e164: plan.did.e164 },
        caller: plan.caller,
        number_id: plan.number.id,
        workspace_id: plan.number.workspace_id,
        targets: plan.targets.map((t) => ({ role: t.role, agent_id: t.agent.id, sip_uri: t.agent.sip_uri })),
        voicemail_message: plan.voicemailMessage,
      },
    };
  }
  return refusalResult(outcome, outcome.step, outcome.trunk?.id ?? null);
}

/** What the dry run says of a refusal: the decision, the step, the reason and its SIP status. */
function refusalResult(refusal: Refusal, step: string, trunkId: string | null): RouteTestResult {
  return {
    decision: refusal.kind,
    step,
    reason: refusal.reason,
    status: refusal.kind === 'drop' ? null : rejectSpec(refusal.reason).status,
    detail: refusal.detail,
    trunk_id: trunkId,
    route: null,
    outbound: null,
  };
}

async function outboundTest(view: SipRequestView, deps: RouteTestDeps): Promise<RouteTestResult> {
  if (!deps.agentSources.match(view.sourceAddress)) {
    return refusalResult(reject('source_not_agent', `${view.sourceAddress} is not in sip.agent_cidrs`), 'source', null);
  }
  const outcome = await evaluateOutbound(view, deps.outbound, { dryRun: true });
  if (outcome.kind !== 'accept') return refusalResult(outcome, outcome.step, outcome.trunk?.id ?? null);
  const { plan } = outcome;
  return {
    decision: 'accept',
    step: 'bridge',
    reason: null,
    status: null,
    detail: null,
    trunk_id: plan.trunk.id,
    route: null,
    outbound: {
      agent_id: plan.agent.id,
      caller_number_id: plan.callerNumber.id,
      destination: plan.destination,
      trunk_id: plan.trunk.id,
      termination_uris: [...plan.trunk.outbound.termination_uris].sort((a, b) => a.priority - b.priority).map((t) => t.uri),
    },
  };
}
