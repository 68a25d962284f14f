import { expect } from 'vitest';
import type { z } from 'zod';
import type { agentSchema, AgentRecord, phoneNumberSchema, PhoneNumberRecord, trunkSchema, TrunkRecord } from '../../../src/domain/model.js';
import { agent, phoneNumber, trunk } from '../../helpers/fixtures.js';
import type { RunningEdge } from './edge.js';

let nextHost = 10;
let nextNumber = 1000;

/** A loopback source address no other test uses (127.0.1.N), so the allowlist is really exercised. */
export function freshSource(): string {
  nextHost++;
  return `127.0.${1 + Math.floor(nextHost / 250)}.${nextHost % 250}`;
}

export function freshNumber(): string {
  nextNumber++;
  return `+1555020${String(nextNumber).padStart(4, '0')}`;
}

/** Test data written through the real catalog; resolves once this edge's trunk table has it. */
export class World {
  constructor(private readonly edge: RunningEdge) {}

  async trunk(overrides: Partial<z.input<typeof trunkSchema>> = {}): Promise<TrunkRecord> {
    const record = await this.edge.app.catalog.createTrunk(trunk(overrides));
    await expect.poll(() => this.edge.app.store.trunks().byId.get(record.id)?.updated_at, { timeout: 2000 }).toBe(record.updated_at);
    return record;
  }

  agent(sipUri: string, overrides: Partial<z.input<typeof agentSchema>> = {}): Promise<AgentRecord> {
    return this.edge.app.catalog.createAgent(agent({ sip_uri: sipUri, ...overrides }));
  }

  number(overrides: Partial<z.input<typeof phoneNumberSchema>> = {}): Promise<PhoneNumberRecord> {
    return this.edge.app.catalog.createNumber(phoneNumber({ phone_number: freshNumber(), ...overrides }));
  }

  /** Trunk for one source address + agent + routed number: the usual setup of a call test. */
  async route(options: {
    agentUri: string;
    trunk?: Partial<z.input<typeof trunkSchema>>;
    number?: Partial<z.input<typeof phoneNumberSchema>>;
    fallbackUri?: string;
    voicemailMessage?: string;
  }): Promise<{ source: string; trunk: TrunkRecord; agent: AgentRecord; fallback: AgentRecord | null; number: PhoneNumberRecord }> {
    const source = freshSource();
    const t = await this.trunk({ ...options.trunk, inbound: { allowed_cidrs: [`${source}/32`], ...options.trunk?.inbound } });
    const primary = await this.agent(options.agentUri);
    const fallback = options.fallbackUri ? await this.agent(options.fallbackUri) : null;
    const n = await this.number({
      trunk_id: t.kind === 'byoc' ? t.id : null,
      telephony: t.kind === 'byoc' ? 'byoc' : 'managed',
      inbound_routing: {
        agent_id: primary.id,
        ...(fallback ? { fallback: { agent_id: fallback.id } } : {}),
        ...(options.voicemailMessage ? { voicemail_message: options.voicemailMessage } : {}),
      },
      ...options.number,
    });
    return { source, trunk: t, agent: primary, fallback, number: n };
  }
}
