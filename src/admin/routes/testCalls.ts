import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TestCallsConfig } from '../../browser/config.js';
import { issueToken, TOKEN_HEADER, type TestCallTarget } from '../../browser/token.js';
import { idSchema, workspaceIdSchema } from '../../domain/model.js';
import type { Catalog } from '../../stores/catalog.js';
import { ApiError, parseWith } from '../errors.js';
import { json } from '../openapi.js';

export const testCallRequestSchema = z
  .strictObject({
    workspace_id: workspaceIdSchema,
    /** call this number as a carrier's caller would: its inbound routing (agent, fallback, voicemail) */
    number_id: idSchema.optional(),
    /** or call this agent directly */
    agent_id: idSchema.optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.number_id === undefined) === (b.agent_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.number_id === undefined ? 'number_id' : 'agent_id'], message: 'give exactly one target: number_id or agent_id' });
    }
  });

const testCallResponseSchema = z.object({
  /** present it on the INVITE as X-Test-Call-Token; it works once, until expires_at */
  token: z.string(),
  token_id: z.string(),
  header: z.literal(TOKEN_HEADER),
  expires_at: z.string(),
  ttl_s: z.number().int(),
  /** the browser entry: where the browser's SIP stack connects */
  ws_url: z.string(),
  /** a Request-URI to dial (routing follows the token, not this URI) */
  sip_uri: z.string(),
  workspace_id: z.string(),
  target: z.object({ kind: z.enum(['number', 'agent']), id: z.string(), phone_number: z.string().optional() }),
});

interface Deps {
  readonly catalog: Pick<Catalog, 'getNumber' | 'getAgent'>;
  readonly config: TestCallsConfig;
  readonly now?: () => number;
}

/** The Request-URI host a browser dials: the browser entry's host. */
function sipHost(wsUrl: string): string {
  return new URL(wsUrl).hostname;
}

/**
 * POST /v1/test-calls: a short-lived, single-use token for one browser test call to a number
 * or an agent of a workspace, and where the browser connects. The target must exist in that
 * workspace; what else may refuse the call (a suspended number, limits) is decided when it is
 * placed, with the usual reasons.
 */
export function registerTestCalls(app: FastifyInstance, deps: Deps): void {
  app.post(
    '/v1/test-calls',
    {
      config: {
        openapi: {
          summary: 'Issue a token for one browser test call (WebRTC over the browser entry)',
          description:
            'The browser presents the token in the X-Test-Call-Token header of its INVITE on ws_url. A token works once and only on the browser entry; the call goes to the token\'s target whatever the Request-URI says, is billed as browser_test, and is refused with 403 test_call_token_invalid / _expired / _used otherwise.',
          tags: ['test calls'],
          body: { content: json(testCallRequestSchema) },
          responses: { 201: { description: 'The token and where to use it', content: json(testCallResponseSchema) } },
          errors: [400, 404, 409],
        },
      },
    },
    async (req, reply) => {
      const { secret, ws_url: wsUrl, token_ttl_s: ttlS } = deps.config;
      if (secret === undefined || wsUrl === undefined) throw new ApiError(409, 'test_calls_disabled', 'browser test calls are not configured on this edge (test_calls.secret)');
      const body = parseWith(testCallRequestSchema, req.body ?? {});
      const target = await resolveTarget(deps.catalog, body);
      const { token, claims } = issueToken(secret, { workspaceId: body.workspace_id, target, ttlS, nowMs: (deps.now ?? Date.now)() });
      const user = target.kind === 'number' ? target.e164 : `agent-${target.id}`;
      return reply.code(201).send({
        token,
        token_id: claims.jti,
        header: TOKEN_HEADER,
        expires_at: new Date(claims.exp * 1000).toISOString(),
        ttl_s: ttlS,
        ws_url: wsUrl,
        sip_uri: `sip:${user}@${sipHost(wsUrl)}`,
        workspace_id: body.workspace_id,
        target: target.kind === 'number' ? { kind: 'number', id: target.id, phone_number: target.e164 } : { kind: 'agent', id: target.id },
      });
    },
  );
}

async function resolveTarget(catalog: Deps['catalog'], body: z.infer<typeof testCallRequestSchema>): Promise<TestCallTarget> {
  if (body.number_id !== undefined) {
    const number = await catalog.getNumber(body.number_id);
    // another workspace's number is "not found": a token never tells one workspace about another
    if (!number || number.workspace_id !== body.workspace_id) throw new ApiError(404, 'number_not_found', `no number ${body.number_id} in workspace ${body.workspace_id}`);
    return { kind: 'number', id: number.id, e164: number.phone_number };
  }
  const agent = await catalog.getAgent(body.agent_id!);
  if (!agent || agent.workspace_id !== body.workspace_id) throw new ApiError(404, 'agent_not_found', `no agent ${body.agent_id} in workspace ${body.workspace_id}`);
  return { kind: 'agent', id: agent.id };
}
