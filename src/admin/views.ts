import type { AgentRecord, PhoneNumberRecord, TrunkRecord } from '../domain/model.js';

type Credentials = { auth_password?: string | undefined };
type WithoutPassword<T> = Omit<T, 'auth_password'> & { auth_password_set: boolean };

export type TrunkView = Omit<TrunkRecord, 'inbound' | 'outbound'> & {
  inbound: WithoutPassword<TrunkRecord['inbound']>;
  outbound: WithoutPassword<TrunkRecord['outbound']>;
};
export type AgentView = AgentRecord;
export type PhoneNumberView = PhoneNumberRecord;

function hidePassword<T extends Credentials>(side: T): WithoutPassword<T> {
  const { auth_password, ...rest } = side;
  return { ...rest, auth_password_set: auth_password !== undefined };
}

/** Passwords are write-only: a trunk leaves the API with `auth_password_set` in their place. */
export function trunkView(trunk: TrunkRecord): TrunkView {
  return { ...trunk, inbound: hidePassword(trunk.inbound), outbound: hidePassword(trunk.outbound) };
}

export const agentView = (agent: AgentRecord): AgentView => agent;
export const phoneNumberView = (n: PhoneNumberRecord): PhoneNumberView => n;

/** Fields the store sets; they come back in responses but are not part of what a client writes. */
export function withoutStamps<T extends { created_at: string; updated_at: string }>(record: T): Omit<T, 'created_at' | 'updated_at'> {
  const { created_at: _created, updated_at: _updated, ...rest } = record;
  return rest;
}
