import type { FastifyInstance } from 'fastify';
import type { ActiveCalls } from '../../calls/activeCalls.js';

/** GET /v1/calls: the calls this instance carries now. */
export function registerActiveCalls(app: FastifyInstance, calls: ActiveCalls): void {
  app.get(
    '/v1/calls',
    {
      config: {
        openapi: {
          summary: 'Active calls on this instance',
          tags: ['calls'],
          responses: { 200: { description: 'Calls with their state, trunk, workspace, number and agent' } },
        },
      },
    },
    async () => {
      const now = Date.now();
      return {
        data: calls.list().map((s) => ({
          call_id: s.info.callId,
          direction: s.info.direction,
          state: s.state,
          workspace_id: s.info.workspaceId,
          trunk_id: s.info.trunkId,
          number_id: s.info.numberId,
          agent_id: s.info.agentId,
          from: s.info.from,
          to: s.info.to,
          started_at: new Date(s.info.startedAt).toISOString(),
          answered_at: s.answeredAtMs === null ? null : new Date(s.answeredAtMs).toISOString(),
          duration_s: s.answeredAtMs === null ? 0 : Math.floor((now - s.answeredAtMs) / 1000),
        })),
      };
    },
  );
}
