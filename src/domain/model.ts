import { z } from 'zod';
import { parseCidr } from './cidr.js';
import { isCountryCode, isE164 } from './e164.js';
import { isSipUri } from './sipUri.js';

export const TRANSPORTS = ['udp', 'tcp', 'tls', 'wss'] as const;
export type Transport = (typeof TRANSPORTS)[number];
export const MEDIA_ENCRYPTION = ['disabled', 'allowed', 'required'] as const;
export type MediaEncryption = (typeof MEDIA_ENCRYPTION)[number];
/** SRTP on the agent's leg when the media anchor is on: none, SDES keys in the SDP, or DTLS-SRTP. */
export const AGENT_MEDIA_ENCRYPTION = ['disabled', 'sdes', 'dtls'] as const;
export type AgentMediaEncryption = (typeof AGENT_MEDIA_ENCRYPTION)[number];
export const TELEPHONY_KINDS = ['managed', 'imported', 'byoc', 'personal'] as const;
export type TelephonyKind = (typeof TELEPHONY_KINDS)[number];
export const NUMBER_STATUSES = ['provisioning', 'active', 'suspended', 'released'] as const;
export type NumberStatus = (typeof NUMBER_STATUSES)[number];

export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 characters: letters, digits, _ . : -');
export const workspaceIdSchema = z.string().min(1).max(128);
const sipUriSchema = z.string().refine(isSipUri, 'must be a sip: or sips: URI with a host');
const cidrSchema = z.string().refine((v) => parseCidr(v) !== null, 'must be an IPv4/IPv6 address or CIDR');
const e164Schema = z.string().refine(isE164, 'must be an E.164 number such as +14155550100');
const countrySchema = z.string().refine((v) => v === '*' || isCountryCode(v), 'must be "*" or an ISO 3166 alpha-2 code');
const credentialsCheck = (v: { auth_username?: string | undefined; auth_password?: string | undefined }, ctx: z.RefinementCtx) => {
  if ((v.auth_username === undefined) !== (v.auth_password === undefined)) {
    ctx.addIssue({ code: 'custom', path: [v.auth_username === undefined ? 'auth_username' : 'auth_password'], message: 'auth_username and auth_password go together' });
  }
};

export const allowedCountriesSchema = z
  .array(countrySchema)
  .superRefine((list, ctx) => {
    if (list.includes('*') && list.length > 1) ctx.addIssue({ code: 'custom', message: '"*" (worldwide) stands alone' });
  });

const trunkInboundSchema = z
  .strictObject({
    allowed_cidrs: z.array(cidrSchema).default([]),
    transports: z.array(z.enum(TRANSPORTS)).min(1).default(['udp', 'tcp']),
    media_encryption: z.enum(MEDIA_ENCRYPTION).default('allowed'),
    trusted_identity: z.boolean().default(false),
    auth_username: z.string().min(1).max(128).optional(),
    auth_password: z.string().min(8).max(256).optional(),
  })
  .superRefine(credentialsCheck);

const trunkOutboundSchema = z
  .strictObject({
    termination_uris: z
      .array(z.strictObject({ uri: sipUriSchema, priority: z.number().int().min(0).max(65535).default(10) }))
      .default([]),
    transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
    auth_username: z.string().min(1).max(128).optional(),
    auth_password: z.string().min(1).max(256).optional(),
    media_encryption: z.enum(MEDIA_ENCRYPTION).default('allowed'),
    /** ["*"] = worldwide; [] = no outbound calls. */
    allowed_countries: allowedCountriesSchema.default([]),
    block_premium: z.boolean().default(true),
  })
  .superRefine(credentialsCheck);

const limitsSchema = z.strictObject({
  /** null = unlimited */
  max_concurrent_calls: z.number().int().min(0).nullable().default(null),
  max_cps: z.number().positive().nullable().default(null),
});

export const trunkSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(200),
  kind: z.enum(['managed', 'byoc']),
  /** null = a shared carrier trunk of the platform, serving every workspace */
  workspace_id: workspaceIdSchema.nullable().default(null),
  inbound: trunkInboundSchema.prefault({}),
  outbound: trunkOutboundSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  max_call_duration_s: z.number().int().min(1).nullable().default(null),
  /** seconds without RTP before an anchored call is ended; null = media.timeout_s */
  media_timeout_s: z.number().int().min(1).max(3600).nullable().default(null),
});
export type Trunk = z.infer<typeof trunkSchema>;

export const agentSchema = z.strictObject({
  id: idSchema,
  workspace_id: workspaceIdSchema,
  name: z.string().min(1).max(200),
  sip_uri: sipUriSchema,
  /** media encryption on the agent's leg when the media anchor is on (ignored with media.anchor off) */
  media_encryption: z.enum(AGENT_MEDIA_ENCRYPTION).default('disabled'),
});
export type Agent = z.infer<typeof agentSchema>;

const inboundRoutingSchema = z.strictObject({
  agent_id: idSchema,
  fallback: z.strictObject({ agent_id: idSchema }).nullable().default(null),
  voicemail_message: z.string().max(2000).nullable().default(null),
});

export const phoneNumberSchema = z
  .strictObject({
    id: idSchema,
    phone_number: e164Schema,
    friendly_name: z.string().max(200).default(''),
    workspace_id: workspaceIdSchema,
    telephony: z.enum(TELEPHONY_KINDS),
    provider: z.string().min(1).max(64).default('platform'),
    trunk_id: idSchema.nullable().default(null),
    status: z.enum(NUMBER_STATUSES).default('active'),
    /** The agent that places outbound calls from this number. */
    agent_id: idSchema.nullable().default(null),
    /** null = outbound only */
    inbound_routing: inboundRoutingSchema.nullable().default(null),
    verified: z.boolean().default(false),
  })
  .superRefine((n, ctx) => {
    if (n.telephony === 'personal' && n.inbound_routing !== null) {
      ctx.addIssue({ code: 'custom', path: ['inbound_routing'], message: 'personal numbers are outbound only' });
    }
    if (n.telephony === 'imported' && !['twilio', 'telnyx'].includes(n.provider)) {
      ctx.addIssue({ code: 'custom', path: ['provider'], message: 'imported numbers come from twilio or telnyx' });
    }
    if (n.telephony === 'byoc' && n.trunk_id === null) {
      ctx.addIssue({ code: 'custom', path: ['trunk_id'], message: 'byoc numbers need the trunk they arrive on' });
    }
  });
export type PhoneNumber = z.infer<typeof phoneNumberSchema>;

/** Stored records carry timestamps the store sets. */
export interface Stamped {
  readonly created_at: string;
  readonly updated_at: string;
}
export type TrunkRecord = Trunk & Stamped;
export type AgentRecord = Agent & Stamped;
export type PhoneNumberRecord = PhoneNumber & Stamped;

/** Allowed number status changes; "released" is final. */
export const STATUS_TRANSITIONS: Readonly<Record<NumberStatus, readonly NumberStatus[]>> = {
  provisioning: ['active', 'released'],
  active: ['suspended', 'released'],
  suspended: ['active', 'released'],
  released: [],
};
