import type { z } from 'zod';
import type { agentSchema, AgentRecord, phoneNumberSchema, PhoneNumberRecord, trunkSchema, TrunkRecord } from '../../../src/domain/model.js';
import type { SipRequestView } from '../../../src/pipeline/types.js';
import type { Admission, AdmissionAlongLookup, CallLimiter } from '../../../src/limits/limiter.js';
import type { RejectReason } from '../../../src/pipeline/reasons.js';
import { buildTrunkTable, type Lookup, type RouteStore, type TrunkTable } from '../../../src/stores/routeStore.js';
import { agent, phoneNumber, trunk } from '../../helpers/fixtures.js';

const STAMP = { created_at: '2024-01-01T00:00:00.000Z', updated_at: '2024-01-01T00:00:00.000Z' } as const;

export const trunkRecord = (o: Partial<z.input<typeof trunkSchema>> = {}): TrunkRecord => ({ ...trunk(o), ...STAMP });
export const agentRecord = (o: Partial<z.input<typeof agentSchema>> = {}): AgentRecord => ({ ...agent(o), ...STAMP });
export const numberRecord = (o: Partial<z.input<typeof phoneNumberSchema>> = {}): PhoneNumberRecord => ({ ...phoneNumber(o), ...STAMP });

/** In-memory RouteStore: Maps for numbers and agents, the real trunk table builder for trunks. */
export class FakeRouteStore implements RouteStore {
  readonly numbers = new Map<string, PhoneNumberRecord>();
  readonly agents = new Map<string, AgentRecord>();
  /** Lookups of these kinds answer 'unavailable' (Redis down, nothing cached). */
  readonly failing = new Set<'number' | 'agent'>();
  readonly lookups: string[] = [];
  private readonly table: TrunkTable;

  constructor(init: { trunks?: TrunkRecord[]; numbers?: PhoneNumberRecord[]; agents?: AgentRecord[] } = {}) {
    this.table = buildTrunkTable(init.trunks ?? []);
    for (const n of init.numbers ?? []) this.numbers.set(n.phone_number, n);
    for (const a of init.agents ?? []) this.agents.set(a.id, a);
  }

  trunks(): TrunkTable {
    return this.table;
  }

  async number(e164: string): Promise<Lookup<PhoneNumberRecord>> {
    this.lookups.push(`number:${e164}`);
    return this.find('number', this.numbers.get(e164));
  }

  async agent(id: string): Promise<Lookup<AgentRecord>> {
    this.lookups.push(`agent:${id}`);
    return this.find('agent', this.agents.get(id));
  }

  private find<T>(kind: 'number' | 'agent', value: T | undefined): Lookup<T> {
    if (this.failing.has(kind)) return { status: 'unavailable', error: new Error('connection refused') };
    return value === undefined ? { status: 'absent', source: 'redis' } : { status: 'found', value, source: 'redis' };
  }
}

export interface RequestInit {
  method?: string;
  callId?: string;
  sourceAddress?: string;
  transport?: string;
  requestUri?: string;
  to?: string;
  from?: string;
  /** an SDP body (sent as application/sdp); undefined: no body */
  sdp?: string | undefined;
  /** any other body, with its Content-Type (overrides sdp) */
  body?: { readonly contentType: string | undefined; readonly text: string };
  headers?: Record<string, string>;
}

function bodyOf(init: RequestInit): Pick<SipRequestView, 'body' | 'contentType'> {
  if (init.body) return { body: init.body.text, contentType: init.body.contentType };
  const offer = 'sdp' in init ? init.sdp : sdp(['m=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);
  return { body: offer, contentType: offer === undefined ? undefined : 'application/sdp' };
}

/** A SipRequestView with carrier-like defaults; header names are case-insensitive as in SIP. */
export function request(init: RequestInit = {}): SipRequestView {
  const headers = new Map(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  // a live INVITE has a Contact; `Contact: ''` in init.headers means none
  if (!headers.has('contact')) headers.set('contact', '<sip:caller@192.0.2.10:5060>');
  if (headers.get('contact') === '') headers.delete('contact');
  return {
    method: init.method ?? 'INVITE',
    callId: init.callId ?? 'call-1@carrier',
    sourceAddress: init.sourceAddress ?? '192.0.2.10',
    transport: init.transport ?? 'udp',
    requestUri: init.requestUri ?? 'sip:+15550001001@edge.example.com',
    to: init.to ?? '<sip:+15550001001@edge.example.com>',
    from: init.from ?? '"Caller" <sip:+15550002002@carrier.example.com>;tag=abc',
    ...bodyOf(init),
    header: (name) => headers.get(name.toLowerCase()),
  };
}

/** An SDP body: session header plus the given media-level (or extra session-level) lines. */
export function sdp(lines: string[], sessionLines: string[] = []): string {
  return [
    'v=0',
    'o=- 20518 0 IN IP4 192.0.2.10',
    's=-',
    ...sessionLines,
    'c=IN IP4 192.0.2.10',
    't=0 0',
    ...lines,
  ].join('\r\n') + '\r\n';
}

export const CRYPTO = 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';
export const FINGERPRINT =
  'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF';

/** A limiter that admits everything unless told which limit refuses; records what it did. */
export class FakeLimiter implements CallLimiter {
  refuse: RejectReason | null = null;
  readonly admitted: string[] = [];
  readonly released: string[] = [];

  async admit(_trunk: TrunkRecord, _workspaceId: string, callId: string): Promise<Admission> {
    return this.decide(callId);
  }

  /** Never consulted by FakeRouteStore (which has no cache misses): admission() stays null. */
  alongLookup(_trunk: TrunkRecord, _callId: string): AdmissionAlongLookup {
    return { read: async () => null, admission: () => null };
  }

  protected decide(callId: string): Admission {
    if (this.refuse) return { kind: 'refused', reason: this.refuse };
    this.admitted.push(callId);
    return { kind: 'admitted', lease: { release: () => void this.released.push(callId) } };
  }
}
