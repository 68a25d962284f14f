import type { FastifyInstance } from 'fastify';
import { routeTest, routeTestRequestSchema, type RouteTestDeps } from '../../pipeline/dryRun.js';
import { json } from '../openapi.js';

/** POST /v1/route-test: "why was this call rejected?" through the live pipeline, without a call. */
export function registerRouteTest(app: FastifyInstance, pipeline: RouteTestDeps): void {
  app.post(
    '/v1/route-test',
    {
      config: {
        openapi: {
          summary: 'Dry-run the inbound or outbound policy pipeline for a described INVITE',
          tags: ['routing'],
          body: { content: json(routeTestRequestSchema) },
          responses: { 200: { description: 'The decision and the step that made it' } },
        },
      },
    },
    async (req) => routeTest(routeTestRequestSchema.parse(req.body ?? {}), pipeline),
  );
}
