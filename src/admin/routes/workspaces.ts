import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { allowedCountriesSchema, workspaceIdSchema } from '../../domain/model.js';
import { DEFAULT_WORKSPACE_COUNTRIES } from '../../stores/workspaceSettings.js';
import type { WorkspaceLimitDefaults } from '../../limits/limiter.js';
import type { RedisKeys } from '../../stores/keys.js';
import type { RedisClient } from '../../stores/redis.js';
import { json } from '../openapi.js';
import { parseWith } from '../errors.js';

const paramsSchema = z.strictObject({ id: workspaceIdSchema });
export const workspaceLimitsSchema = z.strictObject({
  /** null = the default from config (limits.workspace_default) */
  max_concurrent_calls: z.number().int().min(0).nullable(),
  max_cps: z.number().positive().nullable(),
});

export const workspaceOutboundSchema = z.strictObject({
  /** ["*"] = worldwide (the default); trunks may restrict further */
  allowed_countries: allowedCountriesSchema,
});

interface Deps {
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly defaults: WorkspaceLimitDefaults;
}

/** /v1/workspaces/{id}/outbound: the countries a workspace's agents may call. */
export function registerWorkspaceOutbound(app: FastifyInstance, deps: Pick<Deps, 'redis' | 'keys'>): void {
  const view = async (id: string) => {
    const raw = await deps.redis.hget(deps.keys.workspaceSettings(id), 'allowed_countries');
    return { workspace_id: id, allowed_countries: raw === null ? DEFAULT_WORKSPACE_COUNTRIES : (JSON.parse(raw) as string[]) };
  };
  const doc = (summary: string, withBody = false) => ({
    config: {
      openapi: {
        summary,
        tags: ['outbound'],
        ...(withBody ? { body: { content: json(workspaceOutboundSchema) } } : {}),
        responses: { 200: { description: 'The countries the workspace may call' } },
      },
    },
  });
  app.get('/v1/workspaces/:id/outbound', doc("A workspace's outbound countries"), async (req) => view(parseWith(paramsSchema, req.params, 'path').id));
  app.put('/v1/workspaces/:id/outbound', doc("Set a workspace's outbound countries", true), async (req) => {
    const { id } = parseWith(paramsSchema, req.params, 'path');
    const body = parseWith(workspaceOutboundSchema, req.body ?? {}, 'body');
    await deps.redis.hset(deps.keys.workspaceSettings(id), 'allowed_countries', JSON.stringify(body.allowed_countries));
    return view(id);
  });
}

/**
 * /v1/workspaces/{id}/limits: a workspace's own call limits. The limiter reads them inside its
 * admission script, so a change holds for the next call on every instance.
 */
export function registerWorkspaceLimits(app: FastifyInstance, deps: Deps): void {
  const view = async (id: string) => {
    const stored = await deps.redis.hgetall(deps.keys.workspaceSettings(id));
    const own = {
      max_concurrent_calls: stored.max_concurrent_calls === undefined ? null : Number(stored.max_concurrent_calls),
      max_cps: stored.max_cps === undefined ? null : Number(stored.max_cps),
    };
    return {
      workspace_id: id,
      limits: own,
      effective: {
        max_concurrent_calls: own.max_concurrent_calls ?? deps.defaults.max_concurrent_calls,
        max_cps: own.max_cps ?? deps.defaults.max_cps,
      },
    };
  };
  const doc = (summary: string, withBody = false) => ({
    config: {
      openapi: {
        summary,
        tags: ['limits'],
        ...(withBody ? { body: { content: json(workspaceLimitsSchema) } } : {}),
        responses: { 200: { description: 'The workspace limits and the effective values' } },
      },
    },
  });

  app.get('/v1/workspaces/:id/limits', doc("A workspace's call limits"), async (req) => {
    const { id } = parseWith(paramsSchema, req.params, 'path');
    return view(id);
  });

  app.put('/v1/workspaces/:id/limits', doc("Set a workspace's call limits (null = the default)", true), async (req) => {
    const { id } = parseWith(paramsSchema, req.params, 'path');
    const body = parseWith(workspaceLimitsSchema, req.body ?? {}, 'body');
    const key = deps.keys.workspaceSettings(id);
    const tx = deps.redis.multi();
    for (const field of ['max_concurrent_calls', 'max_cps'] as const) {
      const value = body[field];
      if (value === null) tx.hdel(key, field);
      else tx.hset(key, field, String(value));
    }
    await tx.exec();
    return view(id);
  });

  app.delete('/v1/workspaces/:id/limits', doc("Remove a workspace's own limits (back to the default)"), async (req, reply) => {
    const { id } = parseWith(paramsSchema, req.params, 'path');
    await deps.redis.hdel(deps.keys.workspaceSettings(id), 'max_concurrent_calls', 'max_cps');
    return reply.code(204).send();
  });
}
