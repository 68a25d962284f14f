import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../../observability/logger.js';
import { json, type OpenApiCollector } from '../openapi.js';

export interface HealthCheck {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Record<string, HealthCheck>;
}

export interface Health {
  /** The process is alive (event loop turning); false only when it should be restarted. */
  live(): boolean;
  /** Whether the edge can take traffic: drachtio connected, Redis reachable, not draining. */
  ready(): Promise<Readiness>;
}

const readinessSchema = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    checks: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, detail: { type: 'string' } }, required: ['ok'] },
    },
  },
  required: ['ready', 'checks'],
};

/** The unauthenticated operations endpoints; the server lists their paths as public. */
export const OPS_PATHS = ['/healthz', '/readyz', '/metrics', '/openapi.json'] as const;

export function registerOpsRoutes(
  app: FastifyInstance,
  deps: { health: Health; registry: Registry; docs: OpenApiCollector; logger: Logger },
): void {
  app.get('/healthz', {
    config: {
      openapi: {
        summary: 'Liveness',
        tags: ['operations'],
        responses: {
          200: { description: 'Alive', content: json({ type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] }) },
          503: { description: 'Not alive; restart the process', content: json({ type: 'object', properties: { status: { const: 'failing' } } }) },
        },
      },
    },
    handler: async (_req, reply) => (deps.health.live() ? { status: 'ok' } : reply.code(503).send({ status: 'failing' })),
  });

  app.get('/readyz', {
    config: {
      openapi: {
        summary: 'Readiness: drachtio connected, Redis reachable',
        tags: ['operations'],
        responses: {
          200: { description: 'Ready', content: json(readinessSchema) },
          503: { description: 'Not ready; the failing checks say why', content: json(readinessSchema) },
        },
      },
    },
    handler: async (_req, reply) => {
      let readiness: Readiness;
      try {
        readiness = await deps.health.ready();
      } catch (err) {
        deps.logger.warn({ err }, 'readiness check failed');
        readiness = { ready: false, checks: { readiness: { ok: false, detail: err instanceof Error ? err.message : 'check failed' } } };
      }
      return reply.code(readiness.ready ? 200 : 503).send({ ready: readiness.ready, checks: readiness.checks });
    },
  });

  app.get('/metrics', {
    config: {
      openapi: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        responses: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': { type: 'string' } } } },
      },
    },
    handler: async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()),
  });

  app.get('/openapi.json', {
    config: {
      openapi: {
        summary: 'This document',
        tags: ['operations'],
        responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
      },
    },
    handler: async () => deps.docs.document(),
  });
}
