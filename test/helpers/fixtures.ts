import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { agentSchema, phoneNumberSchema, trunkSchema, type Agent, type PhoneNumber, type Trunk } from '../../src/domain/model.js';

/** Test data built through the real schemas, so defaults match what the API stores. */
export function trunk(overrides: Partial<z.input<typeof trunkSchema>> = {}): Trunk {
  return trunkSchema.parse({ id: `trk_${randomUUID().slice(0, 8)}`, name: 'carrier', kind: 'managed', ...overrides });
}

export function agent(overrides: Partial<z.input<typeof agentSchema>> = {}): Agent {
  return agentSchema.parse({ id: `agt_${randomUUID().slice(0, 8)}`, workspace_id: 'ws_1', name: 'agent', sip_uri: 'sip:agent@127.0.0.1:5090', ...overrides });
}

export function phoneNumber(overrides: Partial<z.input<typeof phoneNumberSchema>> = {}): PhoneNumber {
  return phoneNumberSchema.parse({
    id: `num_${randomUUID().slice(0, 8)}`,
    phone_number: '+15550001001',
    workspace_id: 'ws_1',
    telephony: 'managed',
    ...overrides,
  });
}

export function testPrefix(): string {
  return `test:${randomUUID().slice(0, 8)}:`;
}
